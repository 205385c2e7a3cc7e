using System.Text.Encodings.Web;
using System.Text.Json;
using Slacker.Core.Api;

namespace Slacker.Server.Http;

/// <summary>
/// The source-generated contract of the API, with relaxed escaping for what the server writes: error messages
/// quote names ('vol-…') and read better in curl without \u0027. Only the server writes JSON this way; clients
/// parse either form.
/// </summary>
public static class ServerJson
{
    public static readonly CoreJsonContext Context = new(new JsonSerializerOptions(CoreJsonContext.Default.Options)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        TypeInfoResolver = null,
    });
}
