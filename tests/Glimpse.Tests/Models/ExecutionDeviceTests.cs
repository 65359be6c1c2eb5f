using Glimpse.Models;
using Glimpse.Tests.Support;

namespace Glimpse.Tests.Models;

// Issue 15 item 3 on a machine without a GPU and with the default (CPU-only) build: auto falls
// back to the CPU and says why in one line; asking for CUDA is a clear error, never a silent CPU run.
public class ExecutionDeviceTests
{
    [Theory]
    [InlineData("cpu", false, 0)]
    [InlineData("CPU", false, 0)]
    [InlineData("cuda", true, 0)]
    [InlineData("cuda:1", true, 1)]
    public void Device_names_are_read_as_onnx_runtime_numbers_them(string text, bool cuda, int index)
    {
        Assert.Equal(new ExecutionDevice(cuda, index), ExecutionDevice.Parse(text));
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:")]
    [InlineData("cuda:-1")]
    [InlineData("")]
    public void Anything_else_is_refused_with_the_forms_that_are_read(string text)
    {
        var e = Assert.Throws<FormatException>(() => ExecutionDevice.Parse(text));
        Assert.Contains("auto, cpu, cuda or cuda:N", e.Message);
    }

    [Fact]
    public void Auto_runs_on_the_cpu_of_a_cpu_only_build_and_says_why_in_one_line()
    {
        Assert.Null(ExecutionDevice.Parse("auto"));
        var device = ExecutionDevice.Resolve(null, out string? why);
        Assert.Equal(ExecutionDevice.Cpu, device);
        Assert.NotNull(why);
        Assert.Contains("CPU provider only", why);
        Assert.DoesNotContain('\n', why);
        Assert.Equal(ExecutionDevice.Cpu, ExecutionDevice.Resolve(ExecutionDevice.Cpu, out string? none));
        Assert.Null(none);
    }

    [Fact]
    public void Asking_for_cuda_where_it_cannot_run_is_an_error_that_names_the_reason()
    {
        var e = Assert.Throws<ModelFolderException>(() => ExecutionDevice.Resolve(new ExecutionDevice(true, 0), out _));
        Assert.Contains("--device cuda:0 cannot be used", e.Message);
        Assert.Contains("-p:GlimpseGpu=true", e.Message);
    }

    [Fact]
    public void Index_with_each_device_choice_runs_on_the_cpu_fails_clearly_or_refuses_the_name()
    {
        using var dir = new TempDir();
        var env = new Dictionary<string, string> { ["GLIMPSE_MODELS"] = dir.Sub("models") };
        string lib = dir.Sub("photos");
        File.Copy(SharedFiles.PreprocessImages().First(), Path.Combine(lib, "a.jpg"));

        var auto = CliProcess.Run(["index", lib, "--model", SharedFiles.TinyImmich], env: env);
        Assert.True(auto.ExitCode == 0, auto.Stderr);
        Assert.Contains("running on the CPU: this build of Glimpse carries ONNX Runtime's CPU provider only", auto.Stderr);
        Assert.Contains("inference on cpu:", auto.Stderr);
        Assert.Contains("embedded 1 images", auto.Stdout);

        var cuda = CliProcess.Run(["index", lib, "--model", SharedFiles.TinyImmich, "--device", "cuda"], env: env);
        Assert.Equal(1, cuda.ExitCode);
        Assert.Single(cuda.Stderr.Trim().Split('\n'));
        Assert.Contains("--device cuda:0 cannot be used", cuda.Stderr);

        var wrong = CliProcess.Run(["index", lib, "--model", SharedFiles.TinyImmich, "--device", "gpu"], env: env);
        Assert.Equal(2, wrong.ExitCode);
        Assert.Contains("--device must be auto, cpu, cuda or cuda:N", wrong.Stderr);

        var cpu = CliProcess.Run(["index", lib, "--model", SharedFiles.TinyImmich, "--device", "cpu"], env: env);
        Assert.Equal(0, cpu.ExitCode);
        Assert.DoesNotContain("running on the CPU", cpu.Stderr);
    }
}
