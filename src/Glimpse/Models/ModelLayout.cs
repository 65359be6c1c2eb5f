namespace Glimpse.Models;

/// <summary>The two ways users have CLIP ONNX models on disk.</summary>
public enum ModelLayout
{
    /// <summary><c>visual/model.onnx</c>, <c>visual/preprocess_cfg.json</c>, <c>textual/model.onnx</c>, <c>config.json</c>.</summary>
    Immich,

    /// <summary><c>onnx/vision_model.onnx</c>, <c>onnx/text_model.onnx</c>, <c>preprocessor_config.json</c>, <c>config.json</c>.</summary>
    HuggingFace,
}
