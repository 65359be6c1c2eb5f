using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace Glimpse.Models;

/// <summary>
/// The text clean-up OpenAI's CLIP tokenizer applies before BPE: <c>ftfy.fix_text</c>, a double
/// HTML unescape, whitespace collapsed, lower case. ftfy itself is a large heuristic library; this
/// reproduces the fixes that change CLIP tokens in practice: mojibake (UTF-8 read as Latin-1),
/// curly quotes, Latin ligatures, full-width forms, and NFC.
/// </summary>
internal static partial class ClipTextCleaner
{
    public static string Clean(string text)
    {
        text = FixText(text);
        text = WebUtility.HtmlDecode(WebUtility.HtmlDecode(text));
        text = Whitespace().Replace(text, " ").Trim();
        return Lower(text);
    }

    static string FixText(string text)
    {
        text = FixMojibake(text);
        var sb = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            switch (c)
            {
                case '\u2018' or '\u2019' or '\u201A' or '\u201B':
                    sb.Append('\'');
                    break;
                case '\u201C' or '\u201D' or '\u201E' or '\u201F':
                    sb.Append('"');
                    break;
                // Latin ligatures (U+FB00..FB06) and full-width/half-width forms: their compatibility form.
                case >= '\uFB00' and <= '\uFB06':
                case >= '\uFF01' and <= '\uFFEE':
                    sb.Append(c.ToString().Normalize(NormalizationForm.FormKC));
                    break;
                default:
                    sb.Append(c);
                    break;
            }
        }
        return sb.ToString().Normalize(NormalizationForm.FormC);
    }

    /// <summary>"cafÃ©" is "café" whose UTF-8 bytes were read as Latin-1: undo that when it decodes cleanly.</summary>
    static string FixMojibake(string text)
    {
        if (!MojibakeHint().IsMatch(text))
            return text;
        foreach (char c in text)
            if (c > '\u00FF')
                return text; // not representable as Latin-1 bytes: not this kind of mojibake
        byte[] bytes = Encoding.Latin1.GetBytes(text);
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return text;
        }
    }

    /// <summary>Python's str.lower(): full case mapping, where 'İ' becomes 'i' + combining dot.</summary>
    static string Lower(string text) =>
        text.Replace("\u0130", "i\u0307").ToLower(CultureInfo.InvariantCulture);

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    // A lead byte of a 2-byte UTF-8 sequence shown as Latin-1 (Ã, Â, Ä ...) followed by a continuation byte.
    [GeneratedRegex("[\u00C2-\u00DF][\u0080-\u00BF]")]
    private static partial Regex MojibakeHint();
}
