using System.Globalization;
using System.Text.RegularExpressions;

namespace Glimpse.Search;

/// <summary>
/// One term of a combined query such as <c>"dog" + beach.jpg - "people"</c> (rclip's syntax): a
/// text, or an image when the term names an existing file, with a signed weight (<c>2:dog</c>
/// weighs "dog" twice).
/// </summary>
public sealed partial record QueryTerm(float Weight, string Text, bool IsImage)
{
    /// <summary>Parses the words of a query; '+' and '-' separate terms, and a term is an image if such a file exists.</summary>
    public static IReadOnlyList<QueryTerm> Parse(IEnumerable<string> words, Func<string, bool> isImageFile)
    {
        var terms = new List<QueryTerm>();
        float sign = 1;
        var current = new List<string>();
        void Flush()
        {
            if (current.Count == 0)
                return;
            string text = string.Join(' ', current);
            float weight = 1;
            Match m = WeightPrefix().Match(text);
            if (m.Success)
            {
                weight = float.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
                text = text[m.Length..];
            }
            terms.Add(new QueryTerm(sign * weight, text, isImageFile(text)));
            current.Clear();
        }

        foreach (string word in words)
        {
            // A lone '+' or '-' separates terms; "a-b" inside a word does not.
            foreach (string token in SignSplit().Split(word).Where(t => t.Length > 0))
            {
                if (token.Trim() is "+" or "-")
                {
                    Flush();
                    sign = token.Trim() == "-" ? -1 : 1;
                }
                else
                {
                    current.Add(token.Trim());
                }
            }
        }
        Flush();
        return terms.Where(t => t.Text.Length > 0).ToList();
    }

    [GeneratedRegex(@"^(\d+(?:\.\d+)?):")]
    private static partial Regex WeightPrefix();

    [GeneratedRegex(@"(\s[+-]\s|^[+-]\s|\s[+-]$|^[+-]$)")]
    private static partial Regex SignSplit();
}
