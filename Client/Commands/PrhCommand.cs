using System.CommandLine;

namespace Prh.Client.Commands;

/// <summary>The <c>prh</c> root command and its subcommands.</summary>
public static class PrhCommand
{
    /// <summary>Prints the spans of commands that talk to a cluster on the console (OTLP export follows OTEL_* variables).</summary>
    public static Option<bool> TraceConsole { get; } = new("--trace-console") { Description = "Print trace spans on the console", Recursive = true };

    public static RootCommand Build()
    {
        var root = new RootCommand("PRH Cluster: representational alignment of neural networks (Huh et al. 2024), exact and fast.");
        root.Options.Add(TraceConsole);
        root.Subcommands.Add(MetricCommand.Build());
        root.Subcommands.Add(ScoreCommand.Build());
        root.Subcommands.Add(MatrixCommand.Build());
        root.Subcommands.Add(InspectCommand.Build());
        root.Subcommands.Add(ExtractCommand.Build());
        root.Subcommands.Add(DatasetCommand.Build());
        root.Subcommands.Add(DemoCommand.Build());
        root.Subcommands.Add(SweepCommand.Build());
        root.Subcommands.Add(SiloCommand.Build());
        root.Subcommands.Add(StoreCommand.Build());
        return root;
    }
}
