using Prh.Alignment.IO;
using Prh.Alignment.Metrics;
using Prh.Contracts;
using Prh.Extraction;

namespace Prh.Grains;

/// <summary>
/// Where the engines' reports of bad input become refusals: a metric that does not fit its arguments or
/// data (<see cref="AlignmentException"/>), a tensor file that cannot be read as one
/// (<see cref="TensorFileException"/>), an ONNX model or input that cannot be run
/// (<see cref="ExtractionException"/>). Grains run engine work through <see cref="Engine{T}"/> so that
/// what reaches a caller is a <see cref="RefusalException"/> carrying the engine's message.
/// </summary>
internal static class Refusals
{
    public static bool IsInputFault(Exception e) => InputFault(e) is not null;

    /// <summary>
    /// The engine's report of bad input in <paramref name="e"/>: itself, or the first found inside it where
    /// parallel work (Parallel.For, Task.WhenAll) wrapped it in an AggregateException.
    /// </summary>
    public static Exception? InputFault(Exception e) => e switch
    {
        AlignmentException or TensorFileException or ExtractionException => e,
        AggregateException aggregate => aggregate.Flatten().InnerExceptions.Select(InputFault).FirstOrDefault(f => f is not null),
        _ => null,
    };

    /// <summary>Runs engine work; bad input it reports becomes a refusal with the message, prefixed by <paramref name="subject"/> when given.</summary>
    public static T Engine<T>(Func<T> work, string? subject = null)
    {
        try
        {
            return work();
        }
        catch (Exception e) when (InputFault(e) is { } fault)
        {
            throw new RefusalException(subject is null ? fault.Message : $"{subject}: {fault.Message}");
        }
    }
}
