namespace Quilt.Core.Hashing;

/// <summary>
/// The bytes read for an object were not as many as its recorded size. The chunk layout of a hash depends
/// on the size, so no hash is produced: the object changed while being read, or the size given is wrong.
/// </summary>
public sealed class ObjectSizeMismatchException : IOException
{
    /// <param name="expectedSize">The size the object was supposed to have.</param>
    /// <param name="actualSize">The bytes seen; when larger than expected, the object has at least this many.</param>
    /// <param name="subject">What was read, for the message (an object key, a byte range); null for "The object".</param>
    public ObjectSizeMismatchException(long expectedSize, long actualSize, string? subject = null)
        : base(BuildMessage(expectedSize, actualSize, subject))
    {
        ExpectedSize = expectedSize;
        ActualSize = actualSize;
        Subject = subject;
    }

    public long ExpectedSize { get; }

    /// <summary>The bytes seen; when larger than <see cref="ExpectedSize"/>, a lower bound.</summary>
    public long ActualSize { get; }

    public string? Subject { get; }

    private static string BuildMessage(long expected, long actual, string? subject)
    {
        var what = subject ?? "The object";
        return actual < expected
            ? $"{what} ended after {actual:N0} bytes, but its size was given as {expected:N0} bytes. " +
              "It may have changed while being read, or the recorded size is wrong: read its current size and hash it again."
            : $"{what} has more than the {expected:N0} bytes its size was given as. " +
              "It may have changed while being read, or the recorded size is wrong: read its current size and hash it again.";
    }
}

/// <summary>A hash type this library does not know (see <see cref="ObjectHash.KnownTypes"/>).</summary>
public sealed class UnsupportedHashTypeException : NotSupportedException
{
    public UnsupportedHashTypeException(string? type)
        : base($"Unknown hash type '{type}'. Known types are: {string.Join(", ", ObjectHash.KnownTypes)}. " +
               "The manifest may come from a newer quilt3 than this tool supports, or the entry is damaged; " +
               "re-hash the object with a known type (sha2-256-chunked) to produce a verifiable entry.")
        => Type = type;

    public string? Type { get; }
}
