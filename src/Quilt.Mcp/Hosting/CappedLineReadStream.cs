using System.Text.Json;
using ModelContextProtocol.Protocol;

namespace Quilt.Mcp.Hosting;

/// <summary>A line longer than the cap, read to its end and dropped: its length, and its request's id and method if it had them.</summary>
internal sealed record OverlongLine(long Bytes, RequestId? Id, string? Method);

/// <summary>
/// The MCP stdio input, passed on whole lines at a time, each at most <c>maxLineBytes</c> long (a JSON-RPC message is one
/// line). A longer line is read through to its newline without being kept (only its top-level "id" and "method" are
/// picked out on the way) and reported to <c>onOverlong</c> instead of reaching the SDK, whose line reader would hold it
/// whole, several times over, in memory. So memory stays bounded by the cap and the lines after it are served as usual.
/// Reads also end when their token is cancelled (console streams ignore cancellation).
/// </summary>
internal sealed class CappedLineReadStream(Stream inner, int maxLineBytes, Func<OverlongLine, CancellationToken, ValueTask> onOverlong)
    : Quilt.Storage.ForwardReadStream
{
    private const int ReadBytes = 64 * 1024;

    // Bytes read and not yet handed out: [_start, _ready) are whole lines, [_ready, _length) the start of the next one.
    private byte[] _buffer = new byte[ReadBytes];
    private int _start;
    private int _ready;
    private int _length;

    // While a line over the cap is read through: its length so far and what was found in it.
    private TopLevelScanner? _overlong;
    private bool _eof;

    public override int Read(Span<byte> buffer) => throw new NotSupportedException("Read asynchronously.");

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (_ready > _start)
            {
                var n = Math.Min(buffer.Length, _ready - _start);
                _buffer.AsMemory(_start, n).CopyTo(buffer);
                _start += n;
                return n;
            }
            if (_eof)
            {
                // The last line, without a newline: pass it on as it is (it fits the cap).
                _ready = _length;
                if (_ready > _start)
                    continue;
                return 0;
            }

            // Only part of a line is left: move it to the front and read more after it.
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _length - _start);
            _length -= _start;
            _ready -= _start;
            _start = 0;
            // The partial line is at most the cap long (a longer one is dropped), so the buffer never outgrows cap + one read:
            // doubled while small, then grown to that at once rather than by one copy after another.
            if (_buffer.Length - _length < ReadBytes)
                Array.Resize(ref _buffer, _buffer.Length < 1 << 20 ? 2 * _buffer.Length : Math.Max(maxLineBytes, _length) + ReadBytes);

            var readTask = inner.ReadAsync(_buffer.AsMemory(_length, ReadBytes), cancellationToken);
            var read = readTask.IsCompletedSuccessfully ? readTask.Result : await readTask.AsTask().WaitAsync(cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                _eof = true;
                if (_overlong is not null)
                    await FinishOverlongAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }
            await TakeAsync(_length, read, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Sorts <paramref name="count"/> new bytes at <paramref name="offset"/> into whole lines, the partial line and dropped bytes.</summary>
    private async ValueTask TakeAsync(int offset, int count, CancellationToken cancellationToken)
    {
        _length = offset + count;
        var position = offset;
        while (position < _length)
        {
            var newline = _buffer.AsSpan(position, _length - position).IndexOf((byte)'\n');
            var end = newline < 0 ? _length : position + newline;
            if (_overlong is not null)
            {
                // Still inside a dropped line: look at its bytes, keep none.
                _overlong.Scan(_buffer.AsSpan(position, end - position));
                Drop(position, end + (newline < 0 ? 0 : 1));
                if (newline < 0)
                    return;
                await FinishOverlongAsync(cancellationToken).ConfigureAwait(false);
                position = _ready;
                continue;
            }
            if (end - _ready > maxLineBytes)
            {
                // The line just went over the cap: drop what there is of it and the rest as it comes.
                _overlong = new TopLevelScanner();
                _overlong.Scan(_buffer.AsSpan(_ready, end - _ready));
                Drop(_ready, end + (newline < 0 ? 0 : 1));
                if (newline < 0)
                    return;
                await FinishOverlongAsync(cancellationToken).ConfigureAwait(false);
                position = _ready;
                continue;
            }
            if (newline < 0)
                return;
            _ready = position = end + 1;
        }
    }

    /// <summary>Removes [from, to) from the buffer (bytes after it move up).</summary>
    private void Drop(int from, int to)
    {
        Buffer.BlockCopy(_buffer, to, _buffer, from, _length - to);
        _length -= to - from;
    }

    private async ValueTask FinishOverlongAsync(CancellationToken cancellationToken)
    {
        var line = _overlong!;
        _overlong = null;
        // The buffer grew to hold the line up to the cap; a smaller one serves ordinary messages.
        if (_buffer.Length > 4 * ReadBytes && _length - _start < ReadBytes)
        {
            var smaller = new byte[2 * ReadBytes];
            Buffer.BlockCopy(_buffer, _start, smaller, 0, _length - _start);
            _ready -= _start;
            _length -= _start;
            _start = 0;
            _buffer = smaller;
        }
        await onOverlong(new OverlongLine(line.Bytes, line.Id, line.Method), cancellationToken).ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            inner.Dispose();
        base.Dispose(disposing);
    }

    /// <summary>
    /// Follows a JSON object's structure byte by byte, keeping only the text of its top-level "id" and "method" values
    /// (at most a few hundred bytes each): enough to answer the request without holding it.
    /// </summary>
    private sealed class TopLevelScanner
    {
        private const int MaxKept = 512;

        private int _depth;
        private bool _inString;
        private bool _escaped;
        private bool _expectKey;
        private List<byte>? _key;
        private string? _lastKey;
        private List<byte>? _value;
        private byte[]? _id;
        private byte[]? _method;

        public long Bytes { get; private set; }

        public RequestId? Id
        {
            get
            {
                if (_id is null)
                    return null;
                try
                {
                    var reader = new Utf8JsonReader(_id);
                    if (!reader.Read())
                        return null;
                    if (reader.TokenType == JsonTokenType.String)
                        return new RequestId(reader.GetString()!);
                    if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var number))
                        return new RequestId(number);
                }
                catch (Exception e) when (e is JsonException or InvalidOperationException)
                {
                }
                return null;
            }
        }

        public string? Method
        {
            get
            {
                if (_method is null)
                    return null;
                try
                {
                    var reader = new Utf8JsonReader(_method);
                    return reader.Read() && reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }
                catch (Exception e) when (e is JsonException or InvalidOperationException)
                {
                    return null;
                }
            }
        }

        public void Scan(ReadOnlySpan<byte> bytes)
        {
            Bytes += bytes.Length;
            foreach (var b in bytes)
            {
                if (_inString)
                {
                    if (_escaped)
                        _escaped = false;
                    else if (b == (byte)'\\')
                        _escaped = true;
                    else if (b == (byte)'"')
                        _inString = false;
                    if (_key is not null)
                    {
                        if (_inString)
                            Keep(_key, b);
                        else
                        {
                            _lastKey = _key.Count <= MaxKept ? System.Text.Encoding.UTF8.GetString([.. _key]) : null;
                            _key = null;
                        }
                    }
                    else if (_value is not null)
                    {
                        Keep(_value, b);
                    }
                    continue;
                }
                switch (b)
                {
                    case (byte)'"':
                        _inString = true;
                        if (_depth == 1 && _expectKey)
                            _key = [];
                        else if (_value is not null)
                            Keep(_value, b);
                        break;
                    case (byte)'{' or (byte)'[':
                        if (_value is not null)
                            Keep(_value, b);
                        _depth++;
                        _expectKey = _depth == 1 && b == (byte)'{';
                        break;
                    case (byte)'}' or (byte)']':
                        _depth--;
                        if (_depth == 0)
                            EndValue();
                        else if (_value is not null)
                            Keep(_value, b);
                        break;
                    case (byte)',':
                        if (_depth == 1)
                        {
                            EndValue();
                            _expectKey = true;
                        }
                        else if (_value is not null)
                        {
                            Keep(_value, b);
                        }
                        break;
                    case (byte)':':
                        if (_depth == 1 && _expectKey)
                        {
                            _expectKey = false;
                            if (_lastKey is "id" or "method")
                                _value = [];
                        }
                        else if (_value is not null)
                        {
                            Keep(_value, b);
                        }
                        break;
                    default:
                        if (_value is not null)
                            Keep(_value, b);
                        break;
                }
            }
        }

        private void EndValue()
        {
            if (_value is not null && _value.Count <= MaxKept)
            {
                var text = _value.ToArray();
                if (_lastKey == "id")
                    _id = text;
                else
                    _method = text;
            }
            _value = null;
            _lastKey = null;
        }

        private static void Keep(List<byte> into, byte b)
        {
            // Past the bound the value is of no use (an id or method that long answers nothing); stop growing.
            if (into.Count <= MaxKept)
                into.Add(b);
        }
    }
}
