namespace Prh.Extraction;

/// <summary>
/// A model, layer selection or input that extraction cannot use. The message names the thing at
/// fault (the model file, the tensor, the input) and, where one helps, what to do instead.
/// </summary>
public sealed class ExtractionException : Exception
{
    public ExtractionException(string message, Exception? innerException = null) : base(message, innerException)
    {
    }
}
