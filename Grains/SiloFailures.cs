using Prh.Contracts;
using Prh.Contracts.Storage;

namespace Prh.Grains;

/// <summary>
/// Grain calls repeated while the silo under the callee is failing: once the cluster declares it dead
/// the grain re-activates elsewhere and the call goes through. A refusal of the request itself
/// (<see cref="RefusalException"/>) is never repeated, nor is a fault of the store (unavailable, or a
/// lost blob), which its callers handle.
/// </summary>
internal static class SiloFailures
{
    public static bool IsRefusal(Exception e) => Find<RefusalException>(e) is not null;

    public static bool IsStoreFault(Exception e) => Find<StoreUnavailableException>(e) is not null || Find<LostBlobException>(e) is not null;

    /// <summary>The exception itself or its first inner exception of type <typeparamref name="T"/> (grain storage wraps the store's).</summary>
    public static T? Find<T>(Exception e) where T : Exception
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
            if (x is T found) return found;
        return null;
    }

    /// <summary>
    /// Calls until it succeeds, is refused, meets a lost blob, or has failed <paramref name="attempts"/> times or for
    /// <paramref name="budget"/>; a store outage ends it too unless <paramref name="waitOut"/> waits it out. Where
    /// <paramref name="waitOut"/> answers true (it waited for what failed the call, e.g. the store to come back), the
    /// call is made again with attempts and budget starting over.
    /// </summary>
    public static async Task<T> Retry<T>(Func<Task<T>> call, int attempts = int.MaxValue, TimeSpan? budget = null, Func<Exception, Task<bool>>? waitOut = null)
    {
        DateTime Deadline() => budget is { } b ? DateTime.UtcNow + b : DateTime.MaxValue;
        var deadline = Deadline();
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (Exception e) when (!IsRefusal(e) && Find<LostBlobException>(e) is null)
            {
                if (waitOut is not null && await waitOut(e))
                {
                    (attempt, deadline) = (0, Deadline());
                    continue;
                }
                if (Find<StoreUnavailableException>(e) is not null || attempt >= attempts || DateTime.UtcNow >= deadline) throw;
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(2000, 200 * attempt)));
            }
        }
    }

    public static Task Retry(Func<Task> call, int attempts = int.MaxValue, TimeSpan? budget = null, Func<Exception, Task<bool>>? waitOut = null) =>
        Retry(async () => { await call(); return true; }, attempts, budget, waitOut);
}
