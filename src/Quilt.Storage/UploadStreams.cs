namespace Quilt.Storage;

/// <summary>Reading an upload's content in parts, and checking that it had exactly the length it was declared with.</summary>
public static class UploadStreams
{
    /// <summary>Reads until <paramref name="buffer"/> is full or the stream ends; returns how many bytes were read.</summary>
    public static async Task<int> ReadFullAsync(Stream content, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var n = await content.ReadAsync(buffer[total..], cancellationToken);
            if (n == 0)
                break;
            total += n;
        }
        return total;
    }

    /// <summary>Checks that a stream with a declared length ended exactly there.</summary>
    public static async Task CheckLengthAsync(Stream content, long read, long declared, CancellationToken cancellationToken)
    {
        if (read < declared)
            throw new StorageException($"The stream ended after {read} bytes, but its length was given as {declared}. Nothing was written.");
        var probe = new byte[1];
        if (await content.ReadAsync(probe, cancellationToken) > 0)
            throw new StorageException($"The stream has more bytes than its declared length of {declared}. Nothing was written.");
    }
}
