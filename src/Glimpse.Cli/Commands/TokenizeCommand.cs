using System.CommandLine;
using Glimpse.Models;

namespace Glimpse.Cli.Commands;

/// <summary><c>glimpse tokenize --model M TEXT</c>: how CLIP reads a query.</summary>
internal static class TokenizeCommand
{
    public static Command Create(CliContext cli)
    {
        var text = new Argument<string>("TEXT") { Description = "The text to tokenize." };
        var model = CommonOptions.Model();
        model.Required = true;
        var json = CommonOptions.Json();
        var command = new Command("tokenize", "Print the token ids CLIP reads TEXT as (start and end tokens included, not padded).") { text, model, json };
        command.SetAction(parse =>
        {
            var folder = ModelFolder.Open(ModelResolver.ResolveLocal(parse.GetValue(model)!));
            var tokenizer = ClipTokenizer.Load(folder.TokenizerPath, folder.ContextLength);
            int[] ids = tokenizer.Encode(parse.GetValue(text)!);
            if (parse.GetValue(json))
                cli.Out.WriteLine(System.Text.Json.JsonSerializer.Serialize(ids));
            else
                cli.Out.WriteLine(string.Join(' ', ids));
            if (ids.Length > tokenizer.ContextLength)
                cli.Warn($"{ids.Length} tokens: the model reads only the first {tokenizer.ContextLength}.");
            return ExitCodes.Ok;
        });
        return command;
    }
}
