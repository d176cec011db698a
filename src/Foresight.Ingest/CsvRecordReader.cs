using System.Buffers;

namespace Foresight.Ingest;

/// <summary>
/// A streaming RFC 4180 CSV reader: one record at a time into reused buffers, so no row is kept as a string.
/// Handles quoted fields (with commas, doubled quotes and line breaks), CRLF and LF. Blank lines at the end of the
/// file are ignored; a blank line followed by more data is an error, since silently skipping rows hides damage.
/// </summary>
internal sealed class CsvRecordReader : IDisposable
{
    // Guards against a binary or newline-free file growing the record buffer without bound.
    private const int MaxRecordChars = 16 << 20;

    private static readonly SearchValues<char> _unquotedStops = SearchValues.Create(",\r\n");
    private static readonly SearchValues<char> _quotedStops = SearchValues.Create("\"\n");

    private readonly TextReader _reader;
    private readonly char[] _buffer = new char[1 << 16];
    private int _pos;
    private int _len;
    private char[] _chars = new char[1024];
    private int _charCount;
    private int[] _starts = new int[64];
    private int[] _lengths = new int[64];
    private int _fieldCount;
    private bool _anyQuoted;

    // Physical line of the next unread character (1-based).
    private long _line = 1;

    public CsvRecordReader(TextReader reader, string file)
    {
        _reader = reader;
        File = file;
    }

    public string File { get; }

    /// <summary>Column names, once the caller has read them; used to name the column in errors.</summary>
    public IReadOnlyList<string>? Header { get; set; }

    /// <summary>The line the current record starts on (1-based; the header is line 1).</summary>
    public long RecordLine { get; private set; }

    public int FieldCount => _fieldCount;

    public ReadOnlySpan<char> this[int index] => _chars.AsSpan(_starts[index], _lengths[index]);

    public static CsvRecordReader Open(string path) => new(InputFile.OpenText(path), path);

    /// <summary>The name of column <paramref name="index"/> for messages ("column 3" before the header is known).</summary>
    public string ColumnName(int index) =>
        Header is not null && index >= 0 && index < Header.Count && Header[index].Length > 0
            ? Header[index]
            : $"column {index + 1}";

    /// <summary>Reads the next record; false at the end of the file.</summary>
    public bool ReadRecord()
    {
        long blankLine = 0;
        while (true)
        {
            if (Peek() < 0)
            {
                return false;
            }

            RecordLine = _line;
            ParseRecord();
            if (!IsBlank())
            {
                if (blankLine != 0)
                {
                    int expected = Header?.Count ?? 0;
                    throw new TraceFormatException(
                        File,
                        $"blank line inside the data: expected {expected} cells (as in the header), got none",
                        blankLine,
                        ColumnName(0));
                }

                return true;
            }

            if (blankLine == 0)
            {
                blankLine = RecordLine;
            }
        }
    }

    public TraceFormatException Error(string problem, int column) =>
        new(File, problem, RecordLine, ColumnName(column));

    public void Dispose() => _reader.Dispose();

    private bool IsBlank() => _fieldCount == 1 && !_anyQuoted && this[0].IsWhiteSpace();

    private void ParseRecord()
    {
        _fieldCount = 0;
        _charCount = 0;
        _anyQuoted = false;
        while (true)
        {
            int start = _charCount;
            if (Peek() == '"')
            {
                _anyQuoted = true;
                _pos++;
                ReadQuoted();
                SkipSpacesAfterQuote();
            }
            else
            {
                ReadUnquoted();
            }

            AddField(start, _charCount - start);
            int c = Peek();
            switch (c)
            {
                case ',':
                    _pos++;
                    continue;
                case '\r':
                    _pos++;
                    if (Peek() == '\n')
                    {
                        _pos++;
                    }

                    _line++;
                    return;
                case '\n':
                    _pos++;
                    _line++;
                    return;
                case < 0:
                    return;
                default:
                    throw new TraceFormatException(
                        File,
                        $"unexpected character '{(char)c}' after a closing quote (a quoted cell must end at a comma or line end)",
                        _line,
                        ColumnName(_fieldCount - 1));
            }
        }
    }

    private void ReadUnquoted()
    {
        while (_pos < _len || Fill())
        {
            ReadOnlySpan<char> rest = _buffer.AsSpan(_pos, _len - _pos);
            int stop = rest.IndexOfAny(_unquotedStops);
            if (stop < 0)
            {
                Append(rest);
                _pos = _len;
                continue;
            }

            Append(rest[..stop]);
            _pos += stop;
            return;
        }
    }

    private void ReadQuoted()
    {
        while (true)
        {
            if (_pos == _len && !Fill())
            {
                throw new TraceFormatException(
                    File,
                    "unterminated quoted cell: the file ends before its closing quote",
                    RecordLine,
                    ColumnName(_fieldCount));
            }

            ReadOnlySpan<char> rest = _buffer.AsSpan(_pos, _len - _pos);
            int stop = rest.IndexOfAny(_quotedStops);
            if (stop < 0)
            {
                Append(rest);
                _pos = _len;
                continue;
            }

            if (rest[stop] == '\n')
            {
                Append(rest[..(stop + 1)]);
                _pos += stop + 1;
                _line++;
                continue;
            }

            Append(rest[..stop]);
            _pos += stop + 1;
            if (Peek() == '"')
            {
                // A doubled quote is a literal quote.
                Append("\"");
                _pos++;
                continue;
            }

            return;
        }
    }

    private void SkipSpacesAfterQuote()
    {
        while (Peek() is ' ' or '\t')
        {
            _pos++;
        }
    }

    private int Peek()
    {
        if (_pos == _len && !Fill())
        {
            return -1;
        }

        return _buffer[_pos];
    }

    private bool Fill()
    {
        try
        {
            _len = _reader.Read(_buffer, 0, _buffer.Length);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException)
        {
            long lastComplete = _line - 1;
            string after = lastComplete >= 1 ? $"after line {lastComplete}" : "before the end of line 1";
            throw new TraceFormatException(
                File,
                $"cannot read the file {after} (the last line read completely): {ex.Message}",
                Math.Max(lastComplete, 1),
                inner: ex);
        }

        _pos = 0;
        return _len > 0;
    }

    private void Append(ReadOnlySpan<char> text)
    {
        if (_charCount + text.Length > _chars.Length)
        {
            if (_charCount + text.Length > MaxRecordChars)
            {
                throw new TraceFormatException(
                    File,
                    $"line is longer than {MaxRecordChars} characters: not a CSV text file?",
                    RecordLine,
                    ColumnName(_fieldCount));
            }

            Array.Resize(ref _chars, Math.Max(_chars.Length * 2, _charCount + text.Length));
        }

        text.CopyTo(_chars.AsSpan(_charCount));
        _charCount += text.Length;
    }

    private void AddField(int start, int length)
    {
        if (_fieldCount == _starts.Length)
        {
            Array.Resize(ref _starts, _starts.Length * 2);
            Array.Resize(ref _lengths, _lengths.Length * 2);
        }

        _starts[_fieldCount] = start;
        _lengths[_fieldCount] = length;
        _fieldCount++;
    }
}
