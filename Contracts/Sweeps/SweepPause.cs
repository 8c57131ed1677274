namespace Prh.Contracts.Sweeps;

/// <summary>Why a sweep waits, and since when (UTC): the store is unavailable; it goes on by itself when the store is back.</summary>
[GenerateSerializer, Immutable, Alias("prh.SweepPause")]
public sealed record SweepPause([property: Id(0)] DateTime Since, [property: Id(1)] string Reason);
