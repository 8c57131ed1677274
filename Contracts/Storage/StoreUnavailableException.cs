namespace Prh.Contracts.Storage;

/// <summary>
/// The store cannot be reached (connection refused, timeouts, server errors) after the
/// store client's own retries. Work that meets it waits for the store and goes on; nothing is recorded
/// as failed. The message names the store by its description (IBlobStore.Description) and never holds credentials.
/// </summary>
[GenerateSerializer, Alias("prh.StoreUnavailableException")]
public sealed class StoreUnavailableException : Exception
{
    public StoreUnavailableException(string store, string reason) : base($"the store {store} is unavailable: {reason}") => Store = store;

    [Id(0)] public string Store { get; private set; }
}
