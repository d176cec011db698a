namespace Foresight.Ingest;

/// <summary>CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) as gzip stores it; slicing-by-4 for speed.</summary>
internal static class Crc32
{
    private static readonly uint[] _table = BuildTable();

    /// <summary>Continues <paramref name="crc"/> (0 to start) over <paramref name="data"/>.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        uint[] t = _table;
        uint c = ~crc;
        int i = 0;
        for (; i + 4 <= data.Length; i += 4)
        {
            c ^= (uint)(data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24));
            c = t[768 + (c & 0xFF)] ^ t[512 + ((c >> 8) & 0xFF)] ^ t[256 + ((c >> 16) & 0xFF)] ^ t[c >> 24];
        }

        for (; i < data.Length; i++)
        {
            c = t[(c ^ data[i]) & 0xFF] ^ (c >> 8);
        }

        return ~c;
    }

    private static uint[] BuildTable()
    {
        var t = new uint[1024];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            t[n] = c;
        }

        // Table k advances a byte through k further zero bytes (slicing-by-4).
        for (int n = 0; n < 256; n++)
        {
            for (int k = 1; k < 4; k++)
            {
                uint prev = t[((k - 1) * 256) + n];
                t[(k * 256) + n] = t[prev & 0xFF] ^ (prev >> 8);
            }
        }

        return t;
    }
}
