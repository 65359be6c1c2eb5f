using System.CommandLine;
using Glimpse.Models;

namespace Glimpse.Cli.Commands;

/// <summary>Options several commands share, defined once so they read the same everywhere.</summary>
internal static class CommonOptions
{
    public static Argument<string> Root() => new("ROOT")
    {
        Description = "The library folder. Paths are stored relative to it, so the index moves with the photos.",
        DefaultValueFactory = _ => ".",
        Arity = ArgumentArity.ZeroOrOne,
    };

    public static Option<string?> Catalog() => new("--catalog")
    {
        Description = "The catalog: a file (default ROOT/.glimpse/catalog.db), or a library in PostgreSQL shared by many machines: " +
                      "postgres://user@host:port/db?root=NAME (password from PGPASSWORD or ~/.pgpass).",
    };

    public static Option<string[]> RootPath() => new("--root-path")
    {
        Description = "NAME=DIR: where this machine mounts the library a PostgreSQL catalog calls NAME (instead of ROOT). Paths are stored relative to it, so machines that mount the share at different places agree.",
        AllowMultipleArgumentsPerToken = false,
    };

    public static Option<string?> Model() => new("--model", "-m")
    {
        Description = "A CLIP ONNX model folder (Immich layout: visual/model.onnx ...; Hugging Face layout: onnx/vision_model.onnx ...), or the name of a model in the cache. Default: ViT-B-32__openai, downloaded once if missing.",
    };

    public static Option<bool> Offline() => new("--offline")
    {
        Description = "Never use the network (also GLIMPSE_OFFLINE=1): a missing model is an error instead of a download.",
    };

    /// <summary><c>--device auto|cpu|cuda[:N]</c>, checked when parsed.</summary>
    public static Option<string> Device()
    {
        var option = new Option<string>("--device")
        {
            Description = "Where the model runs: auto (a CUDA GPU when this build has ONNX Runtime's CUDA provider and CUDA/cuDNN load, else the CPU), cpu, cuda or cuda:N.",
            DefaultValueFactory = _ => "auto",
        };
        option.Validators.Add(result =>
        {
            try
            {
                ExecutionDevice.Parse(result.GetValueOrDefault<string>() ?? "auto");
            }
            catch (FormatException e)
            {
                result.AddError(e.Message);
            }
        });
        return option;
    }

    /// <summary>The device <c>--device</c> names; for auto on a machine where CUDA cannot run, the CPU and one line saying why.</summary>
    public static ExecutionDevice ResolveDevice(CliContext cli, string? text)
    {
        var device = ExecutionDevice.Resolve(ExecutionDevice.Parse(text ?? "auto"), out string? whyCpu);
        if (whyCpu is not null)
            cli.Warn($"running on the CPU: {whyCpu}");
        return device;
    }

    public static Option<bool> Json() => new("--json")
    {
        Description = "Print results as JSON on stdout, for scripts.",
    };
}
