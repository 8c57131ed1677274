namespace Prh.Alignment.IO;

/// <summary>
/// Writes to a temporary file beside the target (same directory, so the rename never crosses file
/// systems) and renames it over the target on <see cref="Commit"/>: a failed or interrupted write never
/// leaves a half-written file under the target's name. The one way this code base writes a file whole.
/// </summary>
public sealed class AtomicFileWriter : IDisposable
{
    private readonly string _target;
    private readonly string _temp;
    private bool _committed;

    public AtomicFileWriter(string path)
    {
        _target = Path.GetFullPath(path);
        _temp = $"{_target}~tmp.{Guid.NewGuid():N}";
        Stream = new FileStream(_temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
    }

    public FileStream Stream { get; }

    /// <summary>Renames the written file over the target; <paramref name="flushToDisk"/> first makes it durable (a crash then never leaves it empty).</summary>
    public void Commit(bool flushToDisk = false)
    {
        if (flushToDisk) Stream.Flush(flushToDisk: true);
        Stream.Dispose();
        File.Move(_temp, _target, overwrite: true);
        _committed = true;
    }

    /// <summary>Writes <paramref name="header"/> then <paramref name="content"/> as the whole of <paramref name="path"/>.</summary>
    public static async Task WriteAsync(string path, ReadOnlyMemory<byte> content, bool flushToDisk = false, ReadOnlyMemory<byte> header = default,
        CancellationToken cancellationToken = default)
    {
        using var file = new AtomicFileWriter(path);
        await file.Stream.WriteAsync(header, cancellationToken).ConfigureAwait(false);
        await file.Stream.WriteAsync(content, cancellationToken).ConfigureAwait(false);
        file.Commit(flushToDisk);
    }

    public void Dispose()
    {
        Stream.Dispose();
        if (!_committed)
        {
            try { File.Delete(_temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
