using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;

namespace Sandbox.Cli.Serve;

/// <summary>
/// The share API and share pages. Keep in sync with editors/web/src/protocol.js (ShareApi).
/// <list type="bullet">
/// <item><c>POST /api/shares</c> → 201 <see cref="ShareCreated"/>; 400, 413, 415 or 429 otherwise.</item>
/// <item><c>GET /api/shares/{id}</c> → 200 <see cref="ShareResponse"/> or 404.</item>
/// <item><c>GET /s/{id}</c> → the page, which loads the share itself (404 when there is none).</item>
/// </list>
/// </summary>
public static class ShareEndpoints
{
    /// <summary>Name of the per-client rate limit on creating shares.</summary>
    public const string CreatePolicy = "shares-create";

    /// <summary>Maps the share API and pages.</summary>
    public static IEndpointRouteBuilder MapShareEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/api/shares", CreateAsync).RequireRateLimiting(CreatePolicy);
        endpoints.MapGet("/api/shares/{id}", GetAsync);
        endpoints.MapGet("/s/{id}", PageAsync);
        return endpoints;
    }

    private static async Task<IResult> CreateAsync(HttpContext http, ISharedRunStore store, PlaygroundOptions options, CancellationToken cancellationToken)
    {
        var limits = options.Shares;
        if (http.Request.ContentLength > limits.MaxRequestBytes)
        {
            return TooLarge(limits);
        }

        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = limits.MaxRequestBytes;
        }

        if (!http.Request.HasJsonContentType())
        {
            return Results.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Send the share as application/json.");
        }

        ShareRequest? request;
        try
        {
            request = await http.Request.ReadFromJsonAsync<ShareRequest>(cancellationToken);
        }
        catch (JsonException e)
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The share is not valid JSON.", detail: e.Message);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge(limits);
        }

        if (request is null)
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The share is empty.");
        }

        var (content, errors) = request.Validate(limits);
        if (content is null)
        {
            return Results.ValidationProblem(errors, title: "The share cannot be stored.", detail: string.Join("; ", errors.Values.SelectMany(v => v)));
        }

        var run = await store.AddAsync(content, cancellationToken);
        var url = $"/s/{run.Id}";
        return Results.Created(url, new ShareCreated(run.Id, url));
    }

    private static async Task<IResult> GetAsync(string id, ISharedRunStore store, CancellationToken cancellationToken)
    {
        var run = ShareId.IsWellFormed(id) ? await store.GetAsync(id, cancellationToken) : null;
        return run is null
            ? Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No shared run has that id.")
            : Results.Ok(ShareResponse.From(run));
    }

    private static async Task PageAsync(string id, ISharedRunStore store, PlaygroundOptions options, HttpContext http, CancellationToken cancellationToken)
    {
        var exists = ShareId.IsWellFormed(id) && await store.GetAsync(id, cancellationToken) is not null;
        http.Response.StatusCode = exists ? StatusCodes.Status200OK : StatusCodes.Status404NotFound;
        http.Response.ContentType = "text/html; charset=utf-8";
        http.Response.Headers.CacheControl = "no-cache";
        // The page itself reads /api/shares/{id}: one HTML file serves every share.
        await http.Response.SendFileAsync(Path.Combine(options.WebRoot, "index.html"), cancellationToken);
    }

    private static IResult TooLarge(ShareLimits limits) => Results.Problem(
        statusCode: StatusCodes.Status413PayloadTooLarge,
        title: "The share is too large.",
        detail: $"at most {limits.MaxRequestBytes} bytes, a program of {limits.MaxSourceChars} characters, input of {limits.MaxStdinChars} and output of {limits.MaxOutputChars}");
}
