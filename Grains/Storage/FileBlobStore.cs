using System.Security.Cryptography;
using System.Text;
using Prh.Alignment.IO;
using Prh.Contracts.Storage;

namespace Prh.Grains.Storage;

/// <summary>
/// The store on a local (or shared) file system, the embedded default.
/// <para>Layout under the root directory:</para>
/// <list type="bullet">
/// <item><c>blobs/sha256/{first 2 hex}/{hash}</c>: the blob's bytes, nothing else.</item>
/// <item><c>documents/{name}~doc</c>: the header line <c>PRHDOC1 {etag}\n</c> followed by the content, so
/// content and ETag are replaced together by one rename. The <c>~</c> suffix (a character names may not
/// contain) keeps document "a" from clashing with the directory of document "a/b".</item>
/// <item><c>documents/{name}~lock</c>: the lock file a conditional write holds exclusively (FileShare.None,
/// an flock on Unix), so writers in other threads and other processes are serialised. Lock files are
/// left in place: deleting them would let two writers lock two different inodes of the same path.</item>
/// </list>
/// Every write goes to a temporary file in the target directory, then is renamed over the target, so a
/// reader sees the old file or the new one, never a partial one; documents are flushed to disk first.
/// </summary>
public sealed class FileBlobStore : IBlobStore
{
    private const string DocumentSuffix = "~doc";
    private const string LockSuffix = "~lock";
    private static readonly byte[] HeaderMagic = "PRHDOC1 "u8.ToArray();
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);

    private readonly string _blobRoot;
    private readonly string _documentRoot;

    public FileBlobStore(string rootDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(rootDirectory);
        RootDirectory = Path.GetFullPath(rootDirectory);
        _blobRoot = Path.Combine(RootDirectory, "blobs", "sha256");
        _documentRoot = Path.Combine(RootDirectory, "documents");
        Directory.CreateDirectory(_blobRoot);
        Directory.CreateDirectory(_documentRoot);
    }

    public string RootDirectory { get; }

    public string Description => $"file:{RootDirectory}";

    public async Task<BlobRef> PutAsync(ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        var blob = new BlobRef(StoreNames.Sha256Hex(content.Span), content.Length);
        var path = BlobPath(blob);
        if (File.Exists(path))
        {
            return blob;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // Concurrent puts of the same content each rename their own temp file; the bytes are equal, so
        // whichever rename lands last changes nothing a reader can see.
        // Blobs are not flushed to disk (a few seconds of disk time per gigabyte here): one a crash truncated
        // fails its hash on the next read, is discarded and is computed again.
        await AtomicFileWriter.WriteAsync(path, content, flushToDisk: false, cancellationToken: cancellationToken).ConfigureAwait(false);
        return blob;
    }

    public async Task<byte[]> GetAsync(BlobRef blob, CancellationToken cancellationToken = default)
    {
        var path = BlobPath(blob);
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new BlobNotFoundException(blob, Description);
        }
        var actual = StoreNames.Sha256Hex(bytes);
        if (actual != blob.Sha256 || bytes.LongLength != blob.Length)
        {
            Discard(path, blob);
            throw new CorruptBlobException(blob, actual, Description);
        }
        return bytes;
    }

    /// <summary>Deletes a corrupt blob, unless a writer has meanwhile put the right content back.</summary>
    private static void Discard(string path, BlobRef blob)
    {
        string aside = $"{path}~corrupt.{Guid.NewGuid():N}";
        try
        {
            File.Move(path, aside);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return;
        }
        // Moved aside first so a concurrent put of the right bytes never loses them: check what was moved.
        if (StoreNames.Sha256Hex(File.ReadAllBytes(aside)) == blob.Sha256 && !File.Exists(path))
        {
            File.Move(aside, path);
            return;
        }
        TryDelete(aside);
    }

    public Task<string?> ProbeAsync(TimeSpan timeout) =>
        Task.FromResult(Directory.Exists(_blobRoot) && Directory.Exists(_documentRoot) ? null : $"{RootDirectory} is missing its blobs or documents folder");

    public Task<bool> ExistsAsync(BlobRef blob, CancellationToken cancellationToken = default)
        => Task.FromResult(File.Exists(BlobPath(blob)));

    public string? LocalPath(BlobRef blob) => BlobPath(blob) is var path && File.Exists(path) ? path : null;

    public async Task<StoredDocument?> ReadDocumentAsync(string name, CancellationToken cancellationToken = default)
    {
        var path = DocumentPath(name);
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        var (etag, offset) = ParseHeader(bytes, path);
        return new StoredDocument(bytes[offset..], etag);
    }

    public async Task<string> WriteDocumentAsync(string name, ReadOnlyMemory<byte> content, string? expectedETag, CancellationToken cancellationToken = default)
    {
        var path = DocumentPath(name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var _ = await AcquireLockAsync(name, path, cancellationToken).ConfigureAwait(false);
        var current = ReadETag(path);
        if (expectedETag is null && current is not null)
        {
            throw new DocumentConflictException(name, "already exists");
        }
        if (expectedETag is not null && current != expectedETag)
        {
            throw new DocumentConflictException(name, current is null
                ? $"expected ETag {expectedETag} but the document does not exist"
                : $"expected ETag {expectedETag} but it is {current}");
        }
        var etag = Guid.NewGuid().ToString("N");
        var header = new byte[HeaderMagic.Length + etag.Length + 1];
        HeaderMagic.CopyTo(header, 0);
        Encoding.ASCII.GetBytes(etag, header.AsSpan(HeaderMagic.Length));
        header[^1] = (byte)'\n';
        // Documents are flushed first: a crash never leaves a named but empty document.
        await AtomicFileWriter.WriteAsync(path, content, flushToDisk: true, header, cancellationToken).ConfigureAwait(false);
        return etag;
    }

    public async Task DeleteDocumentAsync(string name, string? expectedETag, CancellationToken cancellationToken = default)
    {
        var path = DocumentPath(name);
        if (!Directory.Exists(Path.GetDirectoryName(path)))
        {
            return;
        }
        using var _ = await AcquireLockAsync(name, path, cancellationToken).ConfigureAwait(false);
        var current = ReadETag(path);
        if (current is null)
        {
            return;
        }
        if (expectedETag is not null && current != expectedETag)
        {
            throw new DocumentConflictException(name, $"expected ETag {expectedETag} but it is {current}");
        }
        File.Delete(path);
    }

    private string BlobPath(BlobRef blob)
    {
        StoreNames.ValidateBlob(blob);
        return Path.Combine(_blobRoot, blob.Sha256[..2], blob.Sha256);
    }

    private string DocumentPath(string name)
    {
        StoreNames.ValidateDocumentName(name);
        return Path.Combine(_documentRoot, name.Replace('/', Path.DirectorySeparatorChar)) + DocumentSuffix;
    }

    /// <summary>The current ETag from the header alone, or null when the document does not exist.</summary>
    private static string? ReadETag(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var buffer = new byte[256];
            var read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            return ParseHeader(buffer.AsSpan(0, read), path).ETag;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    private static (string ETag, int ContentOffset) ParseHeader(ReadOnlySpan<byte> bytes, string path)
    {
        var newline = bytes.IndexOf((byte)'\n');
        if (!bytes.StartsWith(HeaderMagic) || newline < 0)
        {
            throw new InvalidDataException($"{path} is not a store document (bad header)");
        }
        return (Encoding.ASCII.GetString(bytes[HeaderMagic.Length..newline]), newline + 1);
    }

    private static async Task<FileStream> AcquireLockAsync(string name, string documentPath, CancellationToken cancellationToken)
    {
        var lockPath = documentPath[..^DocumentSuffix.Length] + LockSuffix;
        var deadline = DateTime.UtcNow + LockTimeout;
        var delay = 1;
        while (true)
        {
            try
            {
                return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException e) when (e is not (FileNotFoundException or DirectoryNotFoundException or PathTooLongException))
            {
                // Held by another writer (this process or another): back off briefly and retry.
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"document '{name}': could not lock {lockPath} within {LockTimeout.TotalSeconds:0} s", e);
                }
            }
            await Task.Delay(Random.Shared.Next(delay, 2 * delay + 1), cancellationToken).ConfigureAwait(false);
            delay = Math.Min(delay * 2, 50);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>The naming rules both stores enforce, so no name can escape the store's root.</summary>
internal static class StoreNames
{
    public const int MaxDocumentNameLength = 200;

    /// <summary>
    /// A document name is 1-200 characters of <c>[A-Za-z0-9._/-]</c> with no empty, <c>.</c> or <c>..</c>
    /// segment and no leading or trailing <c>/</c>; anything else is an <see cref="ArgumentException"/>.
    /// </summary>
    public static void ValidateDocumentName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length is 0 or > MaxDocumentNameLength)
        {
            throw Bad(name, $"must be 1 to {MaxDocumentNameLength} characters long");
        }
        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '/' or '-'))
            {
                throw Bad(name, $"contains '{c}'; only A-Z, a-z, 0-9, '.', '_', '-' and '/' are allowed");
            }
        }
        foreach (var segment in name.Split('/'))
        {
            // Empty segments come from a leading or trailing '/' or from "//"; "." and ".." would walk the tree.
            if (segment is "" or "." or "..")
            {
                throw Bad(name, "has an empty, '.' or '..' path segment (or a leading or trailing '/')");
            }
        }
    }

    /// <summary>A blob's name is its hash: exactly 64 lower-case hex digits, which also keeps it a safe path.</summary>
    public static void ValidateBlob(BlobRef blob)
    {
        ArgumentNullException.ThrowIfNull(blob);
        var hash = blob.Sha256;
        if (hash is null || hash.Length != 64 || !hash.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f'))
        {
            throw new ArgumentException($"blob hash '{hash}' is not 64 lower-case hex digits", nameof(blob));
        }
        if (blob.Length < 0)
        {
            throw new ArgumentException($"blob {blob} has a negative length", nameof(blob));
        }
    }

    public static string Sha256Hex(ReadOnlySpan<byte> content) => Convert.ToHexStringLower(SHA256.HashData(content));

    private static ArgumentException Bad(string name, string why)
        => new($"invalid document name '{name}': {why}", nameof(name));
}
