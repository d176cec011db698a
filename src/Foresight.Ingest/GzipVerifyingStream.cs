using System.Buffers.Binary;
using System.IO.Compression;

namespace Foresight.Ingest;

/// <summary>
/// Decompresses a gzip file (one or more members, RFC 1952) and checks every member's CRC-32 and length trailer.
/// .NET's GZipStream reports a truncated file as a normal end of stream, so a cut-off trace would otherwise be
/// read as a shorter valid one. Problems surface as <see cref="InvalidDataException"/>.
/// </summary>
internal sealed class GzipVerifyingStream : Stream
{
    private const byte FlagHeaderCrc = 2;
    private const byte FlagExtra = 4;
    private const byte FlagName = 8;
    private const byte FlagComment = 16;

    private readonly Stream _file;
    private readonly FeedStream _feed;
    private DeflateStream? _inflater;
    private uint _crc;
    private long _memberLength;
    private long _totalLength;
    private int _members;
    private bool _done;

    /// <param name="file">The compressed bytes; must be seekable, positioned at the gzip header. Disposed with this stream.</param>
    public GzipVerifyingStream(Stream file)
    {
        if (!file.CanSeek)
        {
            throw new ArgumentException("The gzip verifier needs a seekable stream.", nameof(file));
        }

        _file = file;
        _feed = new FeedStream(file);
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (!_done)
        {
            if (_inflater is null)
            {
                StartMember();
                continue;
            }

            int n = _inflater.Read(buffer);
            if (n > 0)
            {
                _crc = Crc32.Append(_crc, buffer[..n]);
                _memberLength += n;
                return n;
            }

            FinishMember();
        }

        return 0;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inflater?.Dispose();
            _file.Dispose();
        }

        base.Dispose(disposing);
    }

    private void StartMember()
    {
        Span<byte> header = stackalloc byte[10];
        int got = _file.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        if (got == 0 && _members > 0)
        {
            _done = true;
            return;
        }

        if (got < header.Length)
        {
            throw new InvalidDataException(
                $"the gzip data ends early: the header of member {_members + 1} is cut off after {_totalLength} decompressed bytes");
        }

        if (header[0] != 0x1f || header[1] != 0x8b)
        {
            throw new InvalidDataException(
                $"unexpected bytes after gzip member {_members} (not another gzip member) after {_totalLength} decompressed bytes");
        }

        if (header[2] != 8)
        {
            throw new InvalidDataException($"unsupported gzip compression method {header[2]} (only deflate, 8, exists)");
        }

        byte flags = header[3];
        if ((flags & 0xE0) != 0)
        {
            throw new InvalidDataException("corrupt gzip header: reserved flag bits are set");
        }

        if ((flags & FlagExtra) != 0)
        {
            Span<byte> lengthBytes = stackalloc byte[2];
            ReadHeaderBytes(lengthBytes);
            Skip(BinaryPrimitives.ReadUInt16LittleEndian(lengthBytes));
        }

        if ((flags & FlagName) != 0)
        {
            SkipZeroTerminated();
        }

        if ((flags & FlagComment) != 0)
        {
            SkipZeroTerminated();
        }

        if ((flags & FlagHeaderCrc) != 0)
        {
            Skip(2);
        }

        _feed.StartMember();
        _inflater = new DeflateStream(_feed, CompressionMode.Decompress, leaveOpen: true);
        _crc = 0;
        _memberLength = 0;
    }

    // The inflater has stopped, at the end of the deflate data or because the file ended early. Deflate's end
    // lies inside the last bytes it was fed, and the 8-byte trailer (CRC-32, length mod 2^32) follows it.
    // Finding a trailer that matches what we decompressed proves the member complete and intact.
    private void FinishMember()
    {
        long windowStart = _feed.WindowStart;
        long fedEnd = _file.Position;
        long fileLength = _file.Length;
        int windowLength = (int)(Math.Min(fedEnd + 8, fileLength) - windowStart);
        var window = new byte[Math.Max(windowLength, 0)];
        _file.Position = windowStart;
        _file.ReadExactly(window);

        uint expectedLength = unchecked((uint)_memberLength);
        for (int p = 0; p + 8 <= window.Length; p++)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(window.AsSpan(p)) == _crc &&
                BinaryPrimitives.ReadUInt32LittleEndian(window.AsSpan(p + 4)) == expectedLength)
            {
                _file.Position = windowStart + p + 8;
                _inflater!.Dispose();
                _inflater = null;
                _members++;
                _totalLength += _memberLength;
                return;
            }
        }

        throw new InvalidDataException(
            $"the gzip data is truncated or corrupt: member {_members + 1} has no matching CRC-32/length trailer " +
            $"after {_totalLength + _memberLength} decompressed bytes");
    }

    private void ReadHeaderBytes(Span<byte> buffer)
    {
        if (_file.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false) < buffer.Length)
        {
            throw new InvalidDataException("the gzip data ends early, inside a member header");
        }
    }

    private void Skip(int count)
    {
        Span<byte> scratch = stackalloc byte[256];
        while (count > 0)
        {
            int n = Math.Min(count, scratch.Length);
            ReadHeaderBytes(scratch[..n]);
            count -= n;
        }
    }

    private void SkipZeroTerminated()
    {
        int b;
        do
        {
            b = _file.ReadByte();
            if (b < 0)
            {
                throw new InvalidDataException("the gzip data ends early, inside a member header");
            }
        }
        while (b != 0);
    }

    /// <summary>Passes file bytes to the inflater and remembers where the last two reads started.</summary>
    private sealed class FeedStream(Stream file) : Stream
    {
        private long _lastReadStart;

        /// <summary>Start of the second-to-last read: deflate's end is at or after it.</summary>
        public long WindowStart { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public void StartMember()
        {
            _lastReadStart = file.Position;
            WindowStart = _lastReadStart;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            long start = file.Position;
            int n = file.Read(buffer);
            if (n > 0)
            {
                WindowStart = _lastReadStart;
                _lastReadStart = start;
            }

            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
