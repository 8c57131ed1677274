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
    public static bool IsInputFault(Exception e) => e is AlignmentException or TensorFileException or ExtractionException;

    /// <summary>Runs engine work; bad input it reports becomes a refusal with the message, prefixed by <paramref name="subject"/> when given.</summary>
    public static T Engine<T>(Func<T> work, string? subject = null)
    {
        try
        {
            return work();
        }
        catch (Exception e) when (IsInputFault(e))
        {
            throw new RefusalException(subject is null ? e.Message : $"{subject}: {e.Message}");
        }
    }
}
