using System.CommandLine;
using Glimpse.Imaging;
using Glimpse.Models;
using Glimpse.Numpy;

namespace Glimpse.Cli.Commands;

/// <summary><c>glimpse preprocess IMAGE...</c>: write the exact model input of each image, to see what the model sees.</summary>
internal static class PreprocessCommand
{
    public static Command Create(CliContext cli)
    {
        var images = new Argument<string[]>("IMAGE") { Description = "Image files.", Arity = ArgumentArity.OneOrMore };
        var model = CommonOptions.Model();
        var npy = new Option<string?>("--npy") { Description = "Write NAME.npy, the float32 [3,S,S] tensor, into this folder." };
        var png = new Option<string?>("--png") { Description = "Write NAME.png, the S x S picture before normalisation, into this folder." };
        var command = new Command("preprocess", "Write the model input of each image as a tensor (.npy) and as a picture (.png). Without --model, OpenAI CLIP's 224 px settings are used.")
        {
            images, model, npy, png,
        };
        command.SetAction(parse =>
        {
            string? npyDir = parse.GetValue(npy), pngDir = parse.GetValue(png);
            if (npyDir is null && pngDir is null)
            {
                cli.Warn("nothing to write: pass --npy DIR and/or --png DIR.");
                return ExitCodes.Usage;
            }
            PreprocessConfig config = parse.GetValue(model) is { } m ? ModelFolder.Open(ModelResolver.ResolveLocal(m)).Preprocess : PreprocessConfig.OpenAiClip();
            var pre = new ClipPreprocessor(config);
            foreach (string dir in new[] { npyDir, pngDir }.OfType<string>())
                Directory.CreateDirectory(dir);

            int failures = 0;
            foreach (string image in parse.GetValue(images)!)
            {
                string name = Path.GetFileNameWithoutExtension(image);
                try
                {
                    byte[] encoded = File.ReadAllBytes(image);
                    if (npyDir is not null)
                    {
                        var tensor = new float[pre.TensorLength];
                        pre.Preprocess(encoded, tensor, image);
                        NpyFile.Write(Path.Combine(npyDir, name + ".npy"), tensor, [3, config.Height, config.Width]);
                    }
                    if (pngDir is not null)
                        File.WriteAllBytes(Path.Combine(pngDir, name + ".png"), pre.PreparedPng(encoded, image));
                    cli.Out.WriteLine(image);
                }
                catch (Exception e) when (e is ImageDecodeException or IOException or UnauthorizedAccessException)
                {
                    cli.Warn($"skipping {image}: {e.Message}");
                    failures++;
                }
            }
            return failures > 0 ? ExitCodes.SomeFailed : ExitCodes.Ok;
        });
        return command;
    }
}
