namespace Prh.Contracts;

/// <summary>
/// A request refused for what it holds, never tried again: bad input (a spec field, a file, a model, a
/// metric that does not fit the data) or a request its target cannot take (results of a sweep still
/// running). The message names what is at fault. Every other failure of a grain call is transient: a
/// silo going away, the store out (<see cref="Storage.StoreUnavailableException"/>), a lost blob
/// (<see cref="Storage.LostBlobException"/>), and is retried or waited out by its caller.
/// Serialisable, so it reaches the client with its type.
/// </summary>
[GenerateSerializer, Alias("prh.RefusalException")]
public sealed class RefusalException(string message) : Exception(message);
