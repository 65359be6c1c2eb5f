using Glimpse.Catalog;

namespace Glimpse.Indexing;

/// <summary>One batch for the commit stage: its embedded images (<see cref="Reused"/> of them by a moved or copied file's vector) and its failures.</summary>
internal sealed record EncodedBatch(IReadOnlyList<EmbeddedImage> Done, IReadOnlyList<FailedImage> Failed, int Reused);
