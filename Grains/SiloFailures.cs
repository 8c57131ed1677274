namespace Prh.Grains;

/// <summary>
/// Grain calls repeated while the silo under the callee is failing: once the cluster declares it dead
/// the grain re-activates elsewhere and the call goes through. A refusal of the request itself
/// (ArgumentException, InvalidOperationException: bad input, a failed pair) is never repeated.
/// </summary>
internal static class SiloFailures
{
    public static bool IsRefusal(Exception e) => e is ArgumentException or InvalidOperationException;

    /// <summary>Calls until it succeeds, a refusal, <paramref name="attempts"/> tries or <paramref name="budget"/> have passed.</summary>
    public static async Task<T> Retry<T>(Func<Task<T>> call, int attempts = int.MaxValue, TimeSpan? budget = null, Action<Exception, int>? onRetry = null)
    {
        var deadline = budget is { } b ? DateTime.UtcNow + b : DateTime.MaxValue;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (Exception e) when (!IsRefusal(e) && attempt < attempts && DateTime.UtcNow < deadline)
            {
                onRetry?.Invoke(e, attempt);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(2000, 200 * attempt)));
            }
        }
    }

    public static Task Retry(Func<Task> call, int attempts = int.MaxValue, TimeSpan? budget = null) =>
        Retry(async () => { await call(); return true; }, attempts, budget);
}
