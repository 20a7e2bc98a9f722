using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Quilt.Gateway.Configuration;

namespace Quilt.Gateway.Http;

/// <summary>
/// Console logging for the command line: text (one line per entry) or JSON (one object per line), at logging.level.
/// Quiet at Information: the gateway's own line per request (<see cref="RequestLog"/>), start-up and warnings; ASP.NET's
/// per-request lines (routing's "Executing endpoint", ...) only from Warning up.
/// </summary>
public static class GatewayLogging
{
    public static void Configure(ILoggingBuilder logging, LoggingOptions options)
    {
        ArgumentNullException.ThrowIfNull(logging);
        ArgumentNullException.ThrowIfNull(options);
        var level = Enum.TryParse<LogLevel>(options.Level, ignoreCase: true, out var parsed) ? parsed : LogLevel.Information;
        logging.ClearProviders();
        logging.SetMinimumLevel(level);
        if (string.Equals(options.Format, LoggingOptions.Json, StringComparison.OrdinalIgnoreCase))
        {
            logging.AddJsonConsole(o =>
            {
                // Scopes could carry request paths: the gateway's own lines already say what is safe to say.
                o.IncludeScopes = false;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                o.JsonWriterOptions = new JsonWriterOptions { Indented = false };
            });
        }
        else
        {
            logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.IncludeScopes = false;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                o.ColorBehavior = LoggerColorBehavior.Disabled;
            });
        }
        if (level >= LogLevel.Information)
        {
            logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
            // More specific than RequestLog's quiet categories (which keep routing at Information), so it wins.
            logging.AddFilter("Microsoft.AspNetCore.Routing.EndpointMiddleware", LogLevel.Warning);
        }
    }
}
