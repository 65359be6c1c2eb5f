using System.Text.Json;
using Glimpse.Models;
using Glimpse.Tests.Support;

namespace Glimpse.Tests.Models;

// Issue 5, item 1: ids equal OpenAI's reference CLIP tokenizer for every reference string.
public class ClipTokenizerTests
{
    static readonly ClipTokenizer Tokenizer = ClipTokenizer.Load(Path.Combine(SharedFiles.TinyHf, "tokenizer.json"));

    public static TheoryData<int> Cases()
    {
        var data = new TheoryData<int>();
        foreach (var c in Reference().EnumerateArray())
            data.Add(c.GetProperty("id").GetInt32());
        return data;
    }

    static JsonElement Reference() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(SharedFiles.Root, "fixtures", "tokenizer", "reference_tokens.json"))).RootElement.GetProperty("cases");

    static JsonElement Case(int id) => Reference().EnumerateArray().First(c => c.GetProperty("id").GetInt32() == id);

    static int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();

    [Theory]
    [MemberData(nameof(Cases))]
    public void Ids_equal_the_reference_tokenizer(int id)
    {
        JsonElement c = Case(id);
        string text = c.GetProperty("text").GetString()!;
        Assert.Equal(Ints(c.GetProperty("ids")), Tokenizer.Encode(text));
        Assert.Equal(Ints(c.GetProperty("clip_tokenize_row")), Tokenizer.EncodeRow(text));
    }

    [Fact]
    public void The_immich_folder_tokenizer_gives_the_same_ids()
    {
        var immich = ClipTokenizer.Load(Path.Combine(SharedFiles.TinyImmich, "textual", "tokenizer.json"));
        Assert.Equal(Tokenizer.Encode("a dog on the beach"), immich.Encode("a dog on the beach"));
    }
}
