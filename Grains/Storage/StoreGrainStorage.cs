using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Providers;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace Prh.Grains.Storage;

/// <summary>
/// Orleans grain storage on the store: each state is the document
/// <c>grains/{stateName}/{grain id}</c> (both parts escaped, see <see cref="DocumentName"/>), holding the
/// state in Orleans' binary serialization, with the document's ETag as the grain's ETag, so concurrent
/// activations of one grain cannot overwrite each other's writes.
/// </summary>
public sealed class StoreGrainStorage(IBlobStore store, Serializer serializer, IActivatorProvider activators) : IGrainStorage
{
    private const string Prefix = "grains/";
    private const int MaxStateNameLength = 60;

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        => ReadStateAsync(stateName, grainId, grainState, CancellationToken.None);

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        => WriteStateAsync(stateName, grainId, grainState, CancellationToken.None);

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        => ClearStateAsync(stateName, grainId, grainState, CancellationToken.None);

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        var document = await store.ReadDocumentAsync(DocumentName(stateName, grainId), cancellationToken).ConfigureAwait(false);
        if (document is null)
        {
            grainState.State = NewState<T>();
            grainState.ETag = null;
            grainState.RecordExists = false;
            return;
        }
        grainState.State = serializer.Deserialize<T>(document.Content);
        grainState.ETag = document.ETag;
        grainState.RecordExists = true;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        var name = DocumentName(stateName, grainId);
        var content = serializer.SerializeToArray(grainState.State);
        try
        {
            // A null ETag means "I saw no record": the write only succeeds if there still is none.
            grainState.ETag = await store.WriteDocumentAsync(name, content, grainState.ETag, cancellationToken).ConfigureAwait(false);
            grainState.RecordExists = true;
        }
        catch (DocumentConflictException e)
        {
            var current = await store.ReadDocumentAsync(name, cancellationToken).ConfigureAwait(false);
            throw new InconsistentStateException(e.Message, current?.ETag ?? "(none)", grainState.ETag ?? "(none)", e);
        }
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        var name = DocumentName(stateName, grainId);
        try
        {
            // Orleans' convention: a null ETag clears whatever is there.
            await store.DeleteDocumentAsync(name, grainState.ETag, cancellationToken).ConfigureAwait(false);
        }
        catch (DocumentConflictException e)
        {
            var current = await store.ReadDocumentAsync(name, cancellationToken).ConfigureAwait(false);
            throw new InconsistentStateException(e.Message, current?.ETag ?? "(none)", grainState.ETag ?? "(none)", e);
        }
        grainState.State = NewState<T>();
        grainState.ETag = null;
        grainState.RecordExists = false;
    }

    /// <summary>
    /// <c>grains/{state}/{grain}</c>, each part escaped reversibly: ASCII letters, digits and '-' stay, every
    /// other UTF-8 byte becomes <c>_XX</c> (hex). So the parts never hold '/', '.' or '..' and always fit the
    /// store's name rules. A part too long for the 200-character limit keeps a readable prefix followed by
    /// <c>.</c> and the SHA-256 of the unescaped text (escaped text never contains '.', so this cannot
    /// collide with a short name).
    /// </summary>
    public static string DocumentName(string stateName, GrainId grainId)
    {
        ArgumentException.ThrowIfNullOrEmpty(stateName);
        var state = Fit(stateName, MaxStateNameLength);
        var grain = Fit(grainId.ToString(), StoreNames.MaxDocumentNameLength - Prefix.Length - state.Length - 1);
        return $"{Prefix}{state}/{grain}";
    }

    /// <summary>The inverse of the escaping in <see cref="DocumentName"/> (for a part that was not shortened).</summary>
    public static string Unescape(string escaped)
    {
        var bytes = new List<byte>(escaped.Length);
        for (var i = 0; i < escaped.Length; i++)
        {
            if (escaped[i] == '_')
            {
                bytes.Add(Convert.ToByte(escaped.Substring(i + 1, 2), 16));
                i += 2;
            }
            else
            {
                bytes.Add((byte)escaped[i]);
            }
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    private static string Fit(string text, int maxLength)
    {
        var escaped = Escape(text);
        if (escaped.Length <= maxLength)
        {
            return escaped;
        }
        var hash = StoreNames.Sha256Hex(Encoding.UTF8.GetBytes(text));
        var prefix = escaped[..(maxLength - hash.Length - 1)];
        return $"{prefix}.{hash}";
    }

    private static string Escape(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c == '-')
            {
                builder.Append(c);
            }
            else
            {
                builder.Append('_').Append(b.ToString("x2"));
            }
        }
        return builder.ToString();
    }

    private T NewState<T>() => activators.GetActivator<T>().Create();
}

public static class PrhStorageExtensions
{
    /// <summary>The grain storage provider's name; it is also registered as the default provider.</summary>
    public const string ProviderName = "prh";

    /// <summary>
    /// Registers the store (a singleton made from <paramref name="options"/>) and grain storage on it,
    /// as the provider "prh" and as the default provider.
    /// </summary>
    public static ISiloBuilder AddPrhStorage(this ISiloBuilder builder, BlobStoreOptions options)
    {
        builder.Services.AddPrhStorage(options);
        return builder;
    }

    public static IServiceCollection AddPrhStorage(this IServiceCollection services, BlobStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        // Reads and writes are traced and counted (Grains/Telemetry).
        services.AddSingleton<IBlobStore>(_ => new Telemetry.TracedBlobStore(BlobStoreFactory.Create(options)));
        services.AddSingleton<StoreGrainStorage>();
        // One instance under both names: the documents do not depend on the provider name.
        services.AddGrainStorage(ProviderName, (sp, _) => sp.GetRequiredService<StoreGrainStorage>());
        services.AddGrainStorage(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME, (sp, _) => sp.GetRequiredService<StoreGrainStorage>());
        return services;
    }
}
