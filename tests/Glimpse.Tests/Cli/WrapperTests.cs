using System.Diagnostics;
using Glimpse.Tests.Support;

namespace Glimpse.Tests.Cli;

// Issue 14, item 2: ./glimpse rebuilds only when a source or project file changed (files a Debug
// build or a test run generates under obj/ never count), says so once when it does, and its help
// names the command glimpse.
public class WrapperTests
{
    static (int Code, string Stdout, string Stderr) Wrapper(params string[] args)
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = SharedFiles.RepoRoot };
        psi.ArgumentList.Add(Path.Combine(SharedFiles.RepoRoot, "glimpse"));
        foreach (string a in args)
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync(), stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(5)), "./glimpse did not finish");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    [Fact]
    public void The_wrapper_builds_once_ignores_generated_files_and_names_the_command_glimpse()
    {
        var (code, help, _) = Wrapper("--help"); // builds the Release command if it is not built yet
        Assert.Equal(0, code);
        Assert.Contains("glimpse [command] [options]", help);
        Assert.DoesNotContain("Glimpse.Cli", help);

        // What a Debug build or a test run writes under obj/ is newer than the Release build: no rebuild.
        string generated = Path.Combine(SharedFiles.RepoRoot, "src", "Glimpse", "obj", $"zz-{Guid.NewGuid():N}.g.cs");
        File.WriteAllText(generated, "// generated");
        try
        {
            var (again, _, stderr) = Wrapper("--version");
            Assert.Equal(0, again);
            Assert.DoesNotContain("building", stderr);
        }
        finally
        {
            File.Delete(generated);
        }

        // A source file changed (its time, here): one rebuild, said once; then none.
        string source = Path.Combine(SharedFiles.RepoRoot, "src", "Glimpse.Cli", "ExitCodes.cs");
        File.SetLastWriteTimeUtc(source, DateTime.UtcNow);
        var (rebuilt, _, said) = Wrapper("--version");
        Assert.Equal(0, rebuilt);
        Assert.Single(said.Split('\n'), l => l.Contains("building"));
        Assert.DoesNotContain("building", Wrapper("--version").Stderr);

        Assert.Equal(2, Wrapper("no-such-command").Code); // a usage error says so in its exit code
    }
}
