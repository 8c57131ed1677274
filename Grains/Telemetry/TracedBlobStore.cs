using System.Diagnostics;
using Prh.Contracts.Storage;
using Prh.Grains.Storage;

namespace Prh.Grains.Telemetry;

/// <summary>An <see cref="IBlobStore"/> whose reads and writes are spans (bytes, blob, store) and counted bytes.</summary>
public sealed class TracedBlobStore(IBlobStore inner) : IBlobStore
{
    public string Description => inner.Description;

    public async Task<BlobRef> PutAsync(ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        using var span = Start("prh.store.put");
        span?.SetTag("prh.bytes", content.Length);
        try
        {
            var blob = await inner.PutAsync(content, cancellationToken);
            span?.SetTag("prh.blob", blob.Sha256);
            PrhTelemetry.StoreBytesWritten.Add(content.Length);
            return blob;
        }
        catch (Exception e) { span.Fail(e); throw; }
    }

    public async Task<byte[]> GetAsync(BlobRef blob, CancellationToken cancellationToken = default)
    {
        using var span = Start("prh.store.get");
        span?.SetTag("prh.blob", blob.Sha256);
        span?.SetTag("prh.bytes", blob.Length);
        try
        {
            var bytes = await inner.GetAsync(blob, cancellationToken);
            PrhTelemetry.StoreBytesRead.Add(bytes.LongLength);
            return bytes;
        }
        catch (Exception e) { span.Fail(e); throw; }
    }

    public Task<bool> ExistsAsync(BlobRef blob, CancellationToken cancellationToken = default) => inner.ExistsAsync(blob, cancellationToken);

    public string? LocalPath(BlobRef blob) => inner.LocalPath(blob);

    public Task<StoredDocument?> ReadDocumentAsync(string name, CancellationToken cancellationToken = default) => inner.ReadDocumentAsync(name, cancellationToken);

    public Task<string> WriteDocumentAsync(string name, ReadOnlyMemory<byte> content, string? expectedETag, CancellationToken cancellationToken = default) =>
        inner.WriteDocumentAsync(name, content, expectedETag, cancellationToken);

    public Task DeleteDocumentAsync(string name, string? expectedETag, CancellationToken cancellationToken = default) =>
        inner.DeleteDocumentAsync(name, expectedETag, cancellationToken);

    public Task<string?> ProbeAsync(TimeSpan timeout) => inner.ProbeAsync(timeout);

    private Activity? Start(string name)
    {
        var span = PrhTelemetry.Source.StartActivity(name, ActivityKind.Client);
        span?.SetTag("prh.store", inner.Description);
        return span;
    }
}
