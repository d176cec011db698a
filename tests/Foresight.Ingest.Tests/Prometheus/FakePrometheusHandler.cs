using System.Net;
using System.Text;

namespace Foresight.Ingest.Tests.Prometheus;

/// <summary>Answers Prometheus API requests from a function; records every request's path and form fields.</summary>
internal sealed class FakePrometheusHandler(Func<string, IReadOnlyDictionary<string, string>, (HttpStatusCode Status, string Body)> answer)
    : HttpMessageHandler
{
    public List<(string Path, IReadOnlyDictionary<string, string> Form)> Requests { get; } = [];

    public static FakePrometheusHandler Always(HttpStatusCode status, string body) => new((_, _) => (status, body));

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        string text = request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken);
        var form = text.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .ToDictionary(p => Uri.UnescapeDataString(p[0].Replace('+', ' ')), p => Uri.UnescapeDataString(p[1].Replace('+', ' ')));
        Requests.Add((request.RequestUri!.AbsolutePath, form));
        (HttpStatusCode status, string body) = answer(request.RequestUri.AbsolutePath, form);
        return new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
    }
}

/// <summary>Always fails to connect, like a port nobody listens on.</summary>
internal sealed class RefusingHandler : HttpMessageHandler
{
    public int Calls { get; private set; }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Calls++;
        throw new HttpRequestException("Connection refused (127.0.0.1:9)");
    }
}
