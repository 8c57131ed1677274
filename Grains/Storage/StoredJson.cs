using System.Text.Json;

namespace Prh.Grains.Storage;

/// <summary>
/// Small JSON documents in the store (a sketch's manifest, an extraction's index), read and changed under
/// the store's ETags, so silos recording into the same document never lose each other's changes.
/// </summary>
public static class StoredJson
{
    private static readonly JsonSerializerOptions Options = new();

    /// <summary>The document, or null when there is none; <paramref name="unreadable"/> hears of one that is not valid JSON of <typeparamref name="T"/> (also null: it
    /// is then made again).</summary>
    public static async Task<T?> ReadAsync<T>(this IBlobStore store, string name, Action? unreadable = null) where T : class =>
        await store.ReadDocumentAsync(name) is { } document ? Parse<T>(document.Content, unreadable) : null;

    /// <summary>
    /// Writes <paramref name="change"/>(the current document, or null) unless it answers null, repeating
    /// with the newer document when another writer came first.
    /// </summary>
    public static async Task UpdateAsync<T>(this IBlobStore store, string name, Func<T?, T?> change) where T : class
    {
        for (int attempt = 1; ; attempt++)
        {
            var document = await store.ReadDocumentAsync(name);
            if (change(document is null ? null : Parse<T>(document.Content, null)) is not { } changed) return;
            try
            {
                await store.WriteDocumentAsync(name, JsonSerializer.SerializeToUtf8Bytes(changed, Options), document?.ETag);
                return;
            }
            catch (DocumentConflictException) when (attempt < 10)
            {
            }
        }
    }

    private static T? Parse<T>(byte[] content, Action? unreadable) where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(content, Options);
        }
        catch (JsonException)
        {
            unreadable?.Invoke();
            return null;
        }
    }
}
