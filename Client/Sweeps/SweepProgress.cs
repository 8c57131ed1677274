using System.Diagnostics;
using System.Globalization;
using Prh.Contracts;
using Prh.Contracts.Grains;
using Prh.Contracts.Sweeps;
using Spectre.Console;

namespace Prh.Client.Sweeps;

/// <summary>
/// Follows a sweep until it finishes. On a terminal: a live progress bar (Spectre.Console) of the
/// sweep's layer pairs, with its tiles, layer pairs per second and the time left; pauses, errors and
/// recoveries are printed above it as they come. Otherwise (output redirected): a plain line whenever
/// the progress changes. While the cluster is unreachable (a silo failing until it is declared dead)
/// polls are repeated for up to two minutes.
/// </summary>
public static class SweepProgress
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    public static Task<SweepStatus> FollowAsync(ISweepGrain grain, TextWriter output, bool terminal) =>
        terminal ? Bar(grain, output) : Lines(grain, output);

    private static async Task<SweepStatus> Lines(ISweepGrain grain, TextWriter output)
    {
        string? last = null;
        while (true)
        {
            var status = await Poll(grain, output.WriteLine);
            string line = SweepStatusText.Describe(status);
            if (line != last) output.WriteLine(line);
            last = line;
            if (status.IsFinished) return status;
            await Task.Delay(PollInterval);
        }
    }

    private static async Task<SweepStatus> Bar(ISweepGrain grain, TextWriter output)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });
        var reported = new HashSet<string>();
        SweepStatus? final = null;
        await console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(Markup.Escape($"sweep {grain.GetPrimaryKeyString()}"), maxValue: 1);
                task.IsIndeterminate = true;
                var rate = new Rate();
                while (true)
                {
                    var status = await Poll(grain, line => console.MarkupLine(Markup.Escape(line)));
                    foreach (string note in SweepStatusText.Notes(status))
                        if (reported.Add(note)) console.MarkupLine(Markup.Escape(note));
                    if (status.Scoring is { LayerPairCount: > 0 } scoring)
                    {
                        task.IsIndeterminate = false;
                        task.MaxValue = scoring.LayerPairCount;
                        task.Value = scoring.LayerPairsDone;
                        task.Description = Markup.Escape($"{status.Id}: tiles {scoring.TilesDone}/{scoring.TileCount}, " +
                            $"layer pairs {Count(scoring.LayerPairsDone)}/{Count(scoring.LayerPairCount)}, {Count(rate.PerSecond(scoring.LayerPairsDone))}/s");
                    }
                    else task.Description = Markup.Escape($"{status.Id}: {status.Phase.ToString().ToLowerInvariant()}, models {status.ModelsImported}/{status.ModelCount}");
                    if (status.IsFinished)
                    {
                        if (status.Phase == SweepPhase.Completed) task.Value = task.MaxValue;
                        task.StopTask();
                        final = status;
                        return;
                    }
                    await Task.Delay(PollInterval);
                }
            });
        return final!;
    }

    /// <summary>The status, repeated while the cluster is unreachable, for up to two minutes.</summary>
    private static async Task<SweepStatus> Poll(ISweepGrain grain, Action<string> report)
    {
        var unavailableSince = (DateTime?)null;
        while (true)
        {
            try
            {
                return await grain.GetStatusAsync();
            }
            catch (Exception e) when (e is not RefusalException)
            {
                unavailableSince ??= DateTime.UtcNow;
                if (DateTime.UtcNow - unavailableSince > TimeSpan.FromMinutes(2)) throw;
                report($"sweep {grain.GetPrimaryKeyString()}: cluster unavailable ({e.GetType().Name}); retrying");
                await Task.Delay(1000);
            }
        }
    }

    private static string Count(double value) => value switch
    {
        >= 1e9 => (value / 1e9).ToString("F1", CultureInfo.InvariantCulture) + "G",
        >= 1e6 => (value / 1e6).ToString("F1", CultureInfo.InvariantCulture) + "M",
        >= 1e4 => (value / 1e3).ToString("F0", CultureInfo.InvariantCulture) + "k",
        _ => value.ToString("F0", CultureInfo.InvariantCulture),
    };

    /// <summary>Layer pairs per second over the last ten seconds of polls.</summary>
    private sealed class Rate
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly Queue<(double Seconds, long Done)> _samples = new();

        public double PerSecond(long done)
        {
            double now = _clock.Elapsed.TotalSeconds;
            _samples.Enqueue((now, done));
            while (_samples.Count > 2 && now - _samples.Peek().Seconds > 10) _samples.Dequeue();
            var (then, before) = _samples.Peek();
            return now > then ? (done - before) / (now - then) : 0;
        }
    }
}
