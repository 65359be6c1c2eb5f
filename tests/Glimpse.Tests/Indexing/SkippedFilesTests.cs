using System.Text.Json;
using Glimpse.Tests.Support;

namespace Glimpse.Tests.Indexing;

// Issue 13, item 4: nothing is skipped silently. Files that are not images Glimpse reads are
// counted by kind with one example each, in the run's summary and in status.
public class SkippedFilesTests
{
    [Fact]
    public void The_run_and_status_count_what_was_left_out_by_kind_with_an_example()
    {
        using var dir = new TempDir();
        string photos = dir.Sub("photos");
        TestImages.Write(photos, 3);
        foreach (string name in new[] { "album0/clip.mp4", "album0/CLIP2.MOV", "album1/a.jpg.xmp", "album1/IMG_1.AAE", "drawing.svg", "scan.pdf", "notes.txt", ".DS_Store", ".hidden/x.mp4" })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(photos, name))!);
            File.WriteAllText(Path.Combine(photos, name), "not an image");
        }

        var (code, stdout, stderr) = CliProcess.Run(["index", photos, "--model", SharedFiles.TinyImmich, "--offline", "--json"]);
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        var run = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(3, run.GetProperty("done").GetInt32());
        var expected = new Dictionary<string, (int, string)>
        {
            ["video"] = (2, "album0/CLIP2.MOV"),             // the first seen, in the walk's byte order
            ["sidecar"] = (2, "album1/IMG_1.AAE"),
            ["vector or document"] = (2, "drawing.svg"),
            ["other"] = (1, "notes.txt"),                    // hidden files are not counted
        };
        Assert.Equal(expected, Kinds(run.GetProperty("skipped")));

        var (_, status, _) = CliProcess.Run(["status", photos, "--json"]);
        Assert.Equal(expected, Kinds(JsonDocument.Parse(status).RootElement.GetProperty("skipped")));
        var (_, text, _) = CliProcess.Run(["status", photos]);
        Assert.Contains("left out       2  video (not indexed), e.g. album0/CLIP2.MOV", text);

        var (_, plain, _) = CliProcess.Run(["index", photos, "--model", SharedFiles.TinyImmich, "--offline"]);
        string line = plain.Split('\n').Single(l => l.StartsWith("not images Glimpse reads, left out: "));
        Assert.Contains("2 video (e.g. album0/CLIP2.MOV)", line);
        Assert.Contains("1 other (e.g. notes.txt)", line);
    }

    static Dictionary<string, (int, string)> Kinds(JsonElement kinds) =>
        kinds.EnumerateArray().ToDictionary(k => k.GetProperty("kind").GetString()!, k => (k.GetProperty("count").GetInt32(), k.GetProperty("example").GetString()!));
}
