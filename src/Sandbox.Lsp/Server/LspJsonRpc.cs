using Microsoft.Extensions.Logging;
using StreamJsonRpc;
using StreamJsonRpc.Protocol;

namespace Sandbox.Lsp.Server;

/// <summary>
/// JSON-RPC for a language server: an error answers with a code and one line, never .NET details. StreamJsonRpc
/// answers an unexpected exception with <c>-32000</c> and <c>data</c> holding its type and stack trace, which an editor
/// shows to the user and which tells a client on a WebSocket about the server's insides; the details go to the log.
/// </summary>
internal sealed class LspJsonRpc(IJsonRpcMessageHandler handler, ILogger logger) : JsonRpc(handler)
{
    protected override JsonRpcError.ErrorDetail CreateErrorDetails(JsonRpcRequest request, Exception exception)
    {
        switch (exception)
        {
            case LocalRpcException expected:
                return new JsonRpcError.ErrorDetail { Code = (JsonRpcErrorCode)expected.ErrorCode, Message = expected.Message, Data = expected.ErrorData };
            case OperationCanceledException:
                return new JsonRpcError.ErrorDetail { Code = JsonRpcErrorCode.RequestCanceled, Message = "the request was cancelled" };
            default:
                logger.LogError(exception, "{Method} failed", request.Method);
                return new JsonRpcError.ErrorDetail
                {
                    Code = JsonRpcErrorCode.InternalError,
                    Message = $"the language server failed on {request.Method}: {exception.Message} (details in its log)",
                };
        }
    }
}
