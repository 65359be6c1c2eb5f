using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Glimpse.Models;

/// <summary>
/// OpenAI CLIP's tokenizer, read from a model folder's <c>tokenizer.json</c>: text cleaning
/// (<see cref="ClipTextCleaner"/>), CLIP's pre-tokenizer split, byte-level BPE with the
/// <c>&lt;/w&gt;</c> end-of-word suffix, <c>&lt;|startoftext|&gt;</c> ... <c>&lt;|endoftext|&gt;</c>.
/// Thread-safe after construction (the merge cache is concurrent).
/// </summary>
public sealed partial class ClipTokenizer
{
    const string StartOfText = "<|startoftext|>";
    const string EndOfText = "<|endoftext|>";
    const string EndOfWord = "</w>";

    readonly Dictionary<string, int> _vocab;
    readonly Dictionary<(string, string), int> _mergeRanks;
    readonly System.Collections.Concurrent.ConcurrentDictionary<string, int[]> _cache = new();
    static readonly char[] ByteToChar = BuildByteToChar();

    ClipTokenizer(Dictionary<string, int> vocab, Dictionary<(string, string), int> mergeRanks, int contextLength)
    {
        _vocab = vocab;
        _mergeRanks = mergeRanks;
        ContextLength = contextLength;
        StartId = vocab[StartOfText];
        EndId = vocab[EndOfText];
    }

    public int ContextLength { get; }
    public int StartId { get; }
    public int EndId { get; }

    /// <summary>Reads a Hugging Face <c>tokenizer.json</c> of a CLIP BPE model.</summary>
    /// <exception cref="ModelFolderException">The file is missing or not a CLIP BPE tokenizer.</exception>
    public static ClipTokenizer Load(string tokenizerJson, int contextLength = 77)
    {
        if (!File.Exists(tokenizerJson))
            throw new ModelFolderException($"tokenizer file {tokenizerJson} is missing.");
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(tokenizerJson));
            JsonElement model = doc.RootElement.GetProperty("model");
            var vocab = new Dictionary<string, int>();
            foreach (JsonProperty p in model.GetProperty("vocab").EnumerateObject())
                vocab[p.Name] = p.Value.GetInt32();
            foreach (JsonElement added in doc.RootElement.TryGetProperty("added_tokens", out var a) ? a.EnumerateArray() : default)
                vocab[added.GetProperty("content").GetString()!] = added.GetProperty("id").GetInt32();

            var ranks = new Dictionary<(string, string), int>();
            int rank = 0;
            foreach (JsonElement merge in model.GetProperty("merges").EnumerateArray())
            {
                // Older files write "a b", newer ones ["a", "b"].
                (string left, string right) = merge.ValueKind == JsonValueKind.Array
                    ? (merge[0].GetString()!, merge[1].GetString()!)
                    : Split(merge.GetString()!);
                ranks.TryAdd((left, right), rank++);
            }
            if (!vocab.ContainsKey(StartOfText) || !vocab.ContainsKey(EndOfText))
                throw new ModelFolderException($"{tokenizerJson} has no {StartOfText}/{EndOfText} tokens: it is not a CLIP tokenizer.");
            return new ClipTokenizer(vocab, ranks, contextLength);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new ModelFolderException($"{tokenizerJson} is not a BPE tokenizer.json: {e.Message}", e);
        }

        static (string, string) Split(string merge)
        {
            int space = merge.IndexOf(' ');
            return (merge[..space], merge[(space + 1)..]);
        }
    }

    /// <summary>Start token, BPE ids, end token; not truncated or padded.</summary>
    public int[] Encode(string text)
    {
        var ids = new List<int> { StartId };
        foreach (Match m in PreTokenizer().Matches(ClipTextCleaner.Clean(text)))
            ids.AddRange(Bpe(m.Value));
        ids.Add(EndId);
        return ids.ToArray();
    }

    /// <summary>
    /// The model's input row: <see cref="Encode"/> cut to <see cref="ContextLength"/> with the last
    /// id forced to the end token (as <c>clip.tokenize(truncate=True)</c>), then padded with <paramref name="pad"/>.
    /// </summary>
    public int[] EncodeRow(string text, int pad = 0)
    {
        int[] ids = Encode(text);
        var row = new int[ContextLength];
        Array.Fill(row, pad);
        if (ids.Length > ContextLength)
        {
            ids.AsSpan(0, ContextLength).CopyTo(row);
            row[^1] = EndId;
        }
        else
        {
            ids.CopyTo(row, 0);
        }
        return row;
    }

    int[] Bpe(string token)
    {
        if (token is StartOfText or EndOfText)
            return [_vocab[token]];
        return _cache.GetOrAdd(token, t =>
        {
            byte[] bytes = Encoding.UTF8.GetBytes(t);
            var word = new List<string>(bytes.Length);
            foreach (byte b in bytes)
                word.Add(ByteToChar[b].ToString());
            word[^1] += EndOfWord;

            while (word.Count > 1)
            {
                // The adjacent pair that was merged earliest in training goes first.
                int best = int.MaxValue;
                (string, string) pair = default;
                for (int i = 0; i < word.Count - 1; i++)
                    if (_mergeRanks.TryGetValue((word[i], word[i + 1]), out int r) && r < best)
                        (best, pair) = (r, (word[i], word[i + 1]));
                if (best == int.MaxValue)
                    break;

                var merged = new List<string>(word.Count);
                for (int i = 0; i < word.Count; i++)
                {
                    if (i < word.Count - 1 && word[i] == pair.Item1 && word[i + 1] == pair.Item2)
                    {
                        merged.Add(pair.Item1 + pair.Item2);
                        i++;
                    }
                    else
                    {
                        merged.Add(word[i]);
                    }
                }
                word = merged;
            }
            return word.Select(piece => _vocab.TryGetValue(piece, out int id) ? id : throw new InvalidOperationException($"BPE piece '{piece}' is not in the vocabulary.")).ToArray();
        });
    }

    /// <summary>GPT-2's reversible map of the 256 byte values to printable characters.</summary>
    static char[] BuildByteToChar()
    {
        var map = new char[256];
        var printable = new List<int>();
        for (int b = '!'; b <= '~'; b++) printable.Add(b);
        for (int b = 0xA1; b <= 0xAC; b++) printable.Add(b);
        for (int b = 0xAE; b <= 0xFF; b++) printable.Add(b);
        int next = 0;
        for (int b = 0; b < 256; b++)
            map[b] = printable.Contains(b) ? (char)b : (char)(256 + next++);
        return map;
    }

    [GeneratedRegex(@"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+", RegexOptions.IgnoreCase)]
    private static partial Regex PreTokenizer();
}
