using Glimpse.Catalog;
using System.Text.Json;
using System.Text.Json.Nodes;
using Glimpse.Imaging;

namespace Glimpse.Models;

/// <summary>
/// A CLIP ONNX model folder as users have it, in the Immich or the Hugging Face layout: where its
/// encoders are and how images must be preprocessed for them. Opening reads only small JSON
/// files; the .onnx files are loaded by the encoders.
/// </summary>
public sealed class ModelFolder
{
    ModelFolder(string path, ModelLayout layout, string visualModel, string? textualModel, PreprocessConfig preprocess, int? configDim,
        string tokenizer = "", int contextLength = 77)
    {
        TokenizerPath = tokenizer;
        ContextLength = contextLength;
        Path = path;
        Layout = layout;
        VisualModelPath = visualModel;
        TextualModelPath = textualModel;
        Preprocess = preprocess;
        ConfigEmbeddingDim = configDim;
    }

    public string Path { get; }

    /// <summary>The folder's name, e.g. <c>ViT-B-32__openai</c>.</summary>
    public string Name => System.IO.Path.GetFileName(System.IO.Path.TrimEndingDirectorySeparator(Path));

    public ModelLayout Layout { get; }
    public string VisualModelPath { get; }
    public string? TextualModelPath { get; }
    public PreprocessConfig Preprocess { get; }

    /// <summary>
    /// The identity the visual encoder's vectors carry, read from its .onnx (and weight files)
    /// without loading a session: to tell whether this is a catalog's model.
    /// </summary>
    /// <exception cref="ModelFolderException">The visual encoder is not a CLIP image encoder that fits the folder.</exception>
    public ModelIdentity ReadIdentity() => VisualModelSignature.Read(this).Identity;

    /// <summary>The CLIP tokenizer.json of the text encoder (it may be missing: only text search needs it).</summary>
    public string TokenizerPath { get; }

    /// <summary>Tokens per text, from config.json (77 for CLIP).</summary>
    public int ContextLength { get; }

    /// <summary>The embedding size config.json declares, if it does; the encoder checks it against the .onnx.</summary>
    public int? ConfigEmbeddingDim { get; }

    /// <summary>Reads a model folder in either layout.</summary>
    /// <exception cref="ModelFolderException">Neither layout, or a required file missing or unreadable.</exception>
    public static ModelFolder Open(string path)
    {
        string dir = System.IO.Path.GetFullPath(path);
        if (!Directory.Exists(dir))
            throw new ModelFolderException($"model folder {path} does not exist.");

        try
        {
            if (File.Exists(System.IO.Path.Combine(dir, "visual", "model.onnx")))
                return OpenImmich(dir);
            if (File.Exists(System.IO.Path.Combine(dir, "onnx", "vision_model.onnx")))
                return OpenHuggingFace(dir);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            // A JSON value of the wrong kind (a string where a number belongs).
            throw new ModelFolderException($"model folder {path} has a config value of the wrong type: {e.Message}", e);
        }

        throw new ModelFolderException(
            $"{path} is not a CLIP model folder: it has neither visual/model.onnx (Immich layout) nor onnx/vision_model.onnx (Hugging Face layout).");
    }

    static ModelFolder OpenImmich(string dir)
    {
        const string file = "visual/preprocess_cfg.json";
        JsonObject cfg = ReadJson(dir, System.IO.Path.Combine("visual", "preprocess_cfg.json"));
        var (height, width) = ReadSize(cfg["size"], file, "size");
        var preprocess = new PreprocessConfig
        {
            Height = height,
            Width = width,
            Mean = ReadTriple(cfg["mean"], file, "mean"),
            Std = ReadTriple(cfg["std"], file, "std"),
            Filter = ParseFilter(cfg["interpolation"]?.GetValue<string>() ?? "bicubic", file),
            ResizeMode = (cfg["resize_mode"]?.GetValue<string>() ?? "shortest") switch
            {
                "shortest" => ResizeMode.Shortest,
                "squash" => ResizeMode.Squash,
                "longest" => ResizeMode.Longest,
                var other => throw new ModelFolderException(
                    $"{file} in {dir} asks for resize_mode '{other}'; Glimpse supports 'shortest', 'squash' and 'longest'."),
            },
            FillColor = ReadFill(cfg["fill_color"], file),
        };
        JsonObject? config = TryReadJson(dir, "config.json");
        int? dim = config?["embed_dim"]?.GetValue<int>();
        int context = config?["text_cfg"]?["context_length"]?.GetValue<int>() ?? 77;
        string textual = System.IO.Path.Combine(dir, "textual", "model.onnx");
        return new ModelFolder(dir, ModelLayout.Immich, System.IO.Path.Combine(dir, "visual", "model.onnx"),
            File.Exists(textual) ? textual : null, preprocess, dim, System.IO.Path.Combine(dir, "textual", "tokenizer.json"), context);
    }

    static ModelFolder OpenHuggingFace(string dir)
    {
        const string file = "preprocessor_config.json";
        JsonObject cfg = ReadJson(dir, file);
        // transformers: CLIP's processor resizes the shortest edge and centre-crops; SigLIP's (no
        // do_center_crop, size {height, width}) resizes straight to the input size.
        bool centerCrop = cfg["do_center_crop"]?.GetValue<bool>() ?? cfg["crop_size"] is not null;
        bool toShortestEdge = cfg["size"] is JsonObject { } sizes && sizes.ContainsKey("shortest_edge") || cfg["size"] is JsonValue;
        var (height, width) = centerCrop && cfg["crop_size"] is { } crop
            ? ReadSize(crop, file, "crop_size")
            : ReadSize(cfg["size"], file, "size");
        if (!centerCrop && toShortestEdge)
            throw new ModelFolderException($"{file} in {dir} resizes the shortest edge without a centre crop, which gives inputs of varying shape; CLIP models need a fixed size.");
        var preprocess = new PreprocessConfig
        {
            Height = height,
            Width = width,
            Mean = ReadTriple(cfg["image_mean"], file, "image_mean"),
            Std = ReadTriple(cfg["image_std"], file, "image_std"),
            // PIL's resample codes: 2 = BILINEAR, 3 = BICUBIC.
            Filter = (cfg["resample"]?.GetValue<int>() ?? 3) switch
            {
                2 => ResampleFilter.Bilinear,
                3 => ResampleFilter.Bicubic,
                var other => throw new ModelFolderException($"{file} in {dir} asks for resample {other}; Glimpse supports 2 (bilinear) and 3 (bicubic)."),
            },
            ResizeMode = centerCrop ? ResizeMode.Shortest : ResizeMode.Squash,
            ShortestEdge = centerCrop && toShortestEdge ? ReadSize(cfg["size"], file, "size").Height : null,
            CropRounding = CropRounding.Floor,
        };
        JsonObject? config = TryReadJson(dir, "config.json");
        int? dim = config?["projection_dim"]?.GetValue<int>();
        int context = config?["text_config"]?["max_position_embeddings"]?.GetValue<int>() ?? 77;
        string textual = System.IO.Path.Combine(dir, "onnx", "text_model.onnx");
        return new ModelFolder(dir, ModelLayout.HuggingFace, System.IO.Path.Combine(dir, "onnx", "vision_model.onnx"),
            File.Exists(textual) ? textual : null, preprocess, dim, System.IO.Path.Combine(dir, "tokenizer.json"), context);
    }

    /// <summary>A size as configs write it: one number, [h, w], {height, width} or {shortest_edge}.</summary>
    static (int Height, int Width) ReadSize(JsonNode? node, string file, string key)
    {
        (int, int)? size = node switch
        {
            JsonValue v => (v.GetValue<int>(), v.GetValue<int>()),
            JsonArray { Count: 1 } a => (a[0]!.GetValue<int>(), a[0]!.GetValue<int>()),
            JsonArray { Count: 2 } a => (a[0]!.GetValue<int>(), a[1]!.GetValue<int>()),
            JsonObject o when o["shortest_edge"] is { } s => (s.GetValue<int>(), s.GetValue<int>()),
            JsonObject o when o["height"] is { } h && o["width"] is { } w => (h.GetValue<int>(), w.GetValue<int>()),
            null => throw new ModelFolderException($"{file} has no '{key}'."),
            _ => null,
        };
        if (size is not { } hw || hw.Item1 <= 0 || hw.Item2 <= 0 || hw.Item1 > 4096 || hw.Item2 > 4096)
            throw new ModelFolderException($"{file}: '{key}' must be a size (a number, [h, w] or {{height, width}}), not {node!.ToJsonString()}.");
        return hw;
    }

    /// <summary>open_clip's fill_color: one 8-bit value for every channel (0 when absent).</summary>
    static byte ReadFill(JsonNode? node, string file)
    {
        int[] values = node switch
        {
            null => [0],
            JsonValue v => [v.GetValue<int>()],
            JsonArray a when a.Count > 0 => a.Select(x => x!.GetValue<int>()).ToArray(),
            _ => [-1],
        };
        if (values.Any(v => v is < 0 or > 255) || values.Distinct().Count() != 1)
            throw new ModelFolderException($"{file}: fill_color must be one value from 0 to 255, not {node!.ToJsonString()}.");
        return (byte)values[0];
    }

    static float[] ReadTriple(JsonNode? node, string file, string key)
    {
        if (node is not JsonArray { Count: 3 } a)
            throw new ModelFolderException($"{file} must give '{key}' as three numbers (R, G, B).");
        return [a[0]!.GetValue<float>(), a[1]!.GetValue<float>(), a[2]!.GetValue<float>()];
    }

    static ResampleFilter ParseFilter(string name, string file) => name switch
    {
        "bicubic" => ResampleFilter.Bicubic,
        "bilinear" => ResampleFilter.Bilinear,
        _ => throw new ModelFolderException($"{file} asks for interpolation '{name}'; Glimpse supports 'bicubic' and 'bilinear'."),
    };

    static JsonObject ReadJson(string dir, string relative) =>
        TryReadJson(dir, relative) ?? throw new ModelFolderException($"model folder {dir} has no {relative}.");

    static JsonObject? TryReadJson(string dir, string relative)
    {
        string full = System.IO.Path.Combine(dir, relative);
        if (!File.Exists(full))
            return null;
        try
        {
            return JsonNode.Parse(File.ReadAllText(full)) as JsonObject
                ?? throw new ModelFolderException($"{relative} in {dir} is not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new ModelFolderException($"{relative} in {dir} is not valid JSON: {e.Message}", e);
        }
    }
}
