using Prh.Contracts.Storage;

namespace Prh.Grains;

/// <summary>
/// Grain calls repeated while the silo under the callee is failing: once the cluster declares it dead
/// the grain re-activates elsewhere and the call goes through. A refusal of the request itself
/// (ArgumentException, InvalidOperationException: bad input, a failed pair) is never repeated, nor is
/// a fault of the store (unavailable, or a lost blob), which its callers handle.
/// </summary>
internal static class SiloFailures
{
    public static bool IsRefusal(Exception e) => e is ArgumentException or InvalidOperationException;

    public static bool IsStoreFault(Exception e) => Find<StoreUnavailableException>(e) is not null || Find<LostBlobException>(e) is not null;

    /// <summary>The exception itself or its first inner exception of type <typeparamref name="T"/> (grain storage wraps the store's).</summary>
    public static T? Find<T>(Exception e) where T : Exception
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
            if (x is T found) return found;
        return null;
    }

    /// <summary>Calls until it succeeds, a refusal or store fault, <paramref name="attempts"/> tries or <paramref name="budget"/> have passed.</summary>
    public static async Task<T> Retry<T>(Func<Task<T>> call, int attempts = int.MaxValue, TimeSpan? budget = null, Action<Exception, int>? onRetry = null)
    {
        var deadline = budget is { } b ? DateTime.UtcNow + b : DateTime.MaxValue;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (Exception e) when (!IsRefusal(e) && !IsStoreFault(e) && attempt < attempts && DateTime.UtcNow < deadline)
            {
                onRetry?.Invoke(e, attempt);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(2000, 200 * attempt)));
            }
        }
    }

    public static Task Retry(Func<Task> call, int attempts = int.MaxValue, TimeSpan? budget = null) =>
        Retry(async () => { await call(); return true; }, attempts, budget);
}
