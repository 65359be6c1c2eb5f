using System.CommandLine;

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

    public static Option<bool> Json() => new("--json")
    {
        Description = "Print results as JSON on stdout, for scripts.",
    };
}
