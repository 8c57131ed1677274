namespace Prh.Alignment.Metrics;

/// <summary>
/// What kind of mistake a request made. The first three are the Python exception classes the
/// reference raises for the same request, so tools that compare with it can match them.
/// </summary>
public enum ErrorKind
{
    ValueError,
    TypeError,
    RuntimeError,
    /// <summary>A feature file is missing, unreadable or malformed.</summary>
    FileError,
    /// <summary>A batch line that is not a well-formed request.</summary>
    RequestError,
}

/// <summary>A request the engine refuses, with the reference-compatible kind of error.</summary>
public sealed class AlignmentException(ErrorKind kind, string message) : Exception(message)
{
    public ErrorKind Kind { get; } = kind;
}
