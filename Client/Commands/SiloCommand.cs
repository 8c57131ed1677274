using System.CommandLine;
using Microsoft.Extensions.Hosting;
using Prh.Silo;

namespace Prh.Client.Commands;

/// <summary><c>prh silo [--Section:Key=value ...]</c>: runs a silo process (same options as prh-silo).</summary>
internal static class SiloCommand
{
    public static Command Build()
    {
        var command = new Command("silo", "Run a silo. Options are configuration keys: --Cluster:SiloPort=11112 --Store:Kind=blob ... (see README).")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        command.SetAction((parse, cancellation) => SiloHost.Create([.. parse.UnmatchedTokens]).RunAsync(cancellation).ContinueWith(_ => 0));
        return command;
    }
}
