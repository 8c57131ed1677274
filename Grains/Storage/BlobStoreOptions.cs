using Azure.Identity;
using Azure.Storage.Blobs;

namespace Prh.Grains.Storage;

/// <summary>Which store to use, bound from the configuration section <see cref="SectionName"/>.</summary>
public sealed class BlobStoreOptions
{
    public const string SectionName = "Store";

    /// <summary><c>file</c> (a directory, the default) or <c>blob</c> (Azure Blob Storage).</summary>
    public string Kind { get; set; } = "file";

    /// <summary>The file store's root directory.</summary>
    public string DataDirectory { get; set; } = "./prh-data";

    /// <summary>The blob store's connection string; takes precedence over <see cref="BlobAccountUrl"/>.</summary>
    public string? BlobConnectionString { get; set; }

    /// <summary>The blob store's account URL (https://ACCOUNT.blob.core.windows.net), reached with DefaultAzureCredential.</summary>
    public string? BlobAccountUrl { get; set; }

    /// <summary>The blob store's container, created if missing.</summary>
    public string Container { get; set; } = "prh";

    /// <summary>
    /// The blob client's retry policy: tries after the first, exponential from <see cref="RetryDelay"/>
    /// up to <see cref="RetryMaxDelay"/> (about 12 s of trying with the defaults), and each try's
    /// <see cref="NetworkTimeout"/>. What outlasts it pauses the sweeps until the store is back.
    /// </summary>
    public int RetryAttempts { get; set; } = 5;

    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(0.5);

    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(4);

    public TimeSpan NetworkTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public BlobClientOptions BlobClientOptions()
    {
        var options = new BlobClientOptions();
        options.Retry.Mode = Azure.Core.RetryMode.Exponential;
        options.Retry.MaxRetries = RetryAttempts;
        options.Retry.Delay = RetryDelay;
        options.Retry.MaxDelay = RetryMaxDelay;
        options.Retry.NetworkTimeout = NetworkTimeout;
        return options;
    }
}

public static class BlobStoreFactory
{
    public static IBlobStore Create(BlobStoreOptions o)
    {
        ArgumentNullException.ThrowIfNull(o);
        switch (o.Kind?.Trim().ToLowerInvariant())
        {
            case "file":
                if (string.IsNullOrWhiteSpace(o.DataDirectory))
                {
                    throw new InvalidOperationException($"{BlobStoreOptions.SectionName}:DataDirectory must be set for the file store");
                }
                return new FileBlobStore(o.DataDirectory);
            case "blob":
                if (string.IsNullOrWhiteSpace(o.Container))
                {
                    throw new InvalidOperationException($"{BlobStoreOptions.SectionName}:Container must be set for the blob store");
                }
                if (!string.IsNullOrWhiteSpace(o.BlobConnectionString))
                {
                    return new AzureBlobStore(new BlobContainerClient(o.BlobConnectionString, o.Container, o.BlobClientOptions()));
                }
                if (!string.IsNullOrWhiteSpace(o.BlobAccountUrl))
                {
                    if (!Uri.TryCreate(o.BlobAccountUrl, UriKind.Absolute, out var account))
                    {
                        throw new InvalidOperationException($"{BlobStoreOptions.SectionName}:BlobAccountUrl '{o.BlobAccountUrl}' is not an absolute URL");
                    }
                    var service = new BlobServiceClient(account, new DefaultAzureCredential(), o.BlobClientOptions());
                    return new AzureBlobStore(service.GetBlobContainerClient(o.Container));
                }
                throw new InvalidOperationException(
                    $"{BlobStoreOptions.SectionName}:BlobConnectionString or {BlobStoreOptions.SectionName}:BlobAccountUrl must be set when " +
                        $"{BlobStoreOptions.SectionName}:Kind is 'blob'");
            default:
                throw new InvalidOperationException(
                    $"{BlobStoreOptions.SectionName}:Kind is '{o.Kind}'; it must be 'file' or 'blob'");
        }
    }
}
