using System.Net;
using System.Net.Http.Headers;
using Quilt.Storage;

namespace Quilt.Registry;

/// <summary>A response body that disposes its response (and so the connection) with it.</summary>
internal sealed class ResponseStream(HttpResponseMessage response, Stream body) : ForwardReadStream
{
    public override long Length => response.Content.Headers.ContentLength ?? throw new NotSupportedException();

    public override int Read(Span<byte> buffer) => body.Read(buffer);
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        body.ReadAsync(buffer, cancellationToken);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            body.Dispose();
            response.Dispose();
        }
        base.Dispose(disposing);
    }
}

/// <summary>
/// A request body of a known length streamed from a source (never buffered whole), so the form can be sent with a
/// Content-Length (S3's presigned POST refuses chunked bodies). Fails when the source has fewer or more bytes.
/// </summary>
internal sealed class KnownLengthContent : HttpContent
{
    private readonly Stream _source;
    private readonly long _length;
    private readonly IProgress<long>? _progress;

    public KnownLengthContent(Stream source, long length, string? contentType, IProgress<long>? progress)
    {
        _source = source;
        _length = length;
        _progress = progress;
        Headers.ContentType = MediaTypeHeaderValue.Parse(contentType ?? "application/octet-stream");
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        var buffer = new byte[81920];
        long sent = 0;
        while (sent < _length)
        {
            var n = await _source.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, _length - sent)), cancellationToken).ConfigureAwait(false);
            if (n == 0)
                break;
            await stream.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            sent += n;
            _progress?.Report(sent);
        }
        // Throwing here aborts the request, so S3 never sees a complete form.
        await UploadStreams.CheckLengthAsync(_source, sent, _length, cancellationToken).ConfigureAwait(false);
    }

    protected override bool TryComputeLength(out long length)
    {
        length = _length;
        return true;
    }
}
