namespace Prh.Alignment.IO;

/// <summary>
/// A tensor or feature file that cannot be used: unreadable, malformed, of an unsupported kind, or
/// holding non-finite values. The message always starts with the file path, then the problem.
/// </summary>
public sealed class TensorFileException : Exception
{
    public TensorFileException(string path, string problem, Exception? innerException = null)
        : base($"{path}: {problem}", innerException)
    {
        Path = path;
        Problem = problem;
    }

    /// <summary>The file the problem is about, as the caller named it.</summary>
    public string Path { get; }

    /// <summary>The problem alone, without the path.</summary>
    public string Problem { get; }
}
