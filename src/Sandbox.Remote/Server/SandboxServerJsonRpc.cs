using Microsoft.Extensions.Logging;
using Sandbox.Remote.Contract;
using StreamJsonRpc;
using StreamJsonRpc.Protocol;

namespace Sandbox.Remote.Server;

/// <summary>The server side of one connection: never sends a stack trace or an unexpected exception's message to a client.</summary>
internal sealed class SandboxServerJsonRpc(IJsonRpcMessageHandler handler, ILogger logger) : JsonRpc(handler)
{
    protected override JsonRpcError.ErrorDetail CreateErrorDetails(JsonRpcRequest request, Exception exception)
    {
        if (exception is LocalRpcException local)
        {
            return new JsonRpcError.ErrorDetail { Code = (JsonRpcErrorCode)local.ErrorCode, Message = local.Message, Data = local.ErrorData };
        }

        logger.LogError(exception, "Unexpected failure of {Method}", request.Method);
        return new JsonRpcError.ErrorDetail
        {
            Code = (JsonRpcErrorCode)(int)SandboxErrorCode.Internal,
            Message = "the runner failed; its log has the details",
        };
    }
}
