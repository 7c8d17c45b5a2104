"""Message classes for TF Serving's wire format, built from our own descriptors in a private pool."""

from __future__ import annotations

from google.protobuf import message_factory
from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper
from google.protobuf.message import Message

from wire.protos.builder import private_pool
from wire.protos.logging_messages import LOGGING_FILE
from wire.protos.model_service_messages import MODEL_SERVICE_FILE
from wire.protos.serving_messages import PREDICTION_SERVICE_FILE
from wire.protos.tensorflow_messages import ERROR_CODES_FILE, TENSORFLOW_FILE

POOL = private_pool(
    [TENSORFLOW_FILE, ERROR_CODES_FILE, PREDICTION_SERVICE_FILE, MODEL_SERVICE_FILE, LOGGING_FILE]
)


def message_class(full_name: str) -> type[Message]:
    """Return the class of a message in our pool, e.g. "tensorflow.serving.PredictRequest".

    Raises:
        KeyError: no message of that full name is in the pool.
    """
    return message_factory.GetMessageClass(POOL.FindMessageTypeByName(full_name))


# google.protobuf: our pool's own classes, which is what our Any and version fields hold.
Any = message_class("google.protobuf.Any")
Int64Value = message_class("google.protobuf.Int64Value")

# tensorflow and tensorflow.error
DataType = EnumTypeWrapper(POOL.FindEnumTypeByName("tensorflow.DataType"))
ErrorCode = EnumTypeWrapper(POOL.FindEnumTypeByName("tensorflow.error.Code"))
TensorShapeProto = message_class("tensorflow.TensorShapeProto")
TensorProto = message_class("tensorflow.TensorProto")
BytesList = message_class("tensorflow.BytesList")
FloatList = message_class("tensorflow.FloatList")
Int64List = message_class("tensorflow.Int64List")
Feature = message_class("tensorflow.Feature")
Features = message_class("tensorflow.Features")
Example = message_class("tensorflow.Example")
TensorInfo = message_class("tensorflow.TensorInfo")
SignatureDef = message_class("tensorflow.SignatureDef")

# tensorflow.serving: PredictionService
ModelSpec = message_class("tensorflow.serving.ModelSpec")
PredictRequest = message_class("tensorflow.serving.PredictRequest")
PredictResponse = message_class("tensorflow.serving.PredictResponse")
ExampleList = message_class("tensorflow.serving.ExampleList")
ExampleListWithContext = message_class("tensorflow.serving.ExampleListWithContext")
Input = message_class("tensorflow.serving.Input")
Class = message_class("tensorflow.serving.Class")
Classifications = message_class("tensorflow.serving.Classifications")
ClassificationResult = message_class("tensorflow.serving.ClassificationResult")
ClassificationRequest = message_class("tensorflow.serving.ClassificationRequest")
ClassificationResponse = message_class("tensorflow.serving.ClassificationResponse")
Regression = message_class("tensorflow.serving.Regression")
RegressionResult = message_class("tensorflow.serving.RegressionResult")
RegressionRequest = message_class("tensorflow.serving.RegressionRequest")
RegressionResponse = message_class("tensorflow.serving.RegressionResponse")
InferenceTask = message_class("tensorflow.serving.InferenceTask")
MultiInferenceRequest = message_class("tensorflow.serving.MultiInferenceRequest")
InferenceResult = message_class("tensorflow.serving.InferenceResult")
MultiInferenceResponse = message_class("tensorflow.serving.MultiInferenceResponse")
SignatureDefMap = message_class("tensorflow.serving.SignatureDefMap")
GetModelMetadataRequest = message_class("tensorflow.serving.GetModelMetadataRequest")
GetModelMetadataResponse = message_class("tensorflow.serving.GetModelMetadataResponse")

# tensorflow.serving: ModelService and the server config it reloads
StatusProto = message_class("tensorflow.serving.StatusProto")
ModelVersionStatus = message_class("tensorflow.serving.ModelVersionStatus")
GetModelStatusRequest = message_class("tensorflow.serving.GetModelStatusRequest")
GetModelStatusResponse = message_class("tensorflow.serving.GetModelStatusResponse")
FileSystemStoragePathSourceConfig = message_class(
    "tensorflow.serving.FileSystemStoragePathSourceConfig"
)
ServableVersionPolicy = FileSystemStoragePathSourceConfig.ServableVersionPolicy
ModelConfig = message_class("tensorflow.serving.ModelConfig")
ModelConfigList = message_class("tensorflow.serving.ModelConfigList")
ModelServerConfig = message_class("tensorflow.serving.ModelServerConfig")
ReloadConfigRequest = message_class("tensorflow.serving.ReloadConfigRequest")
Metric = message_class("tensorflow.serving.Metric")
ReloadConfigResponse = message_class("tensorflow.serving.ReloadConfigResponse")

# tensorflow.serving: request logs and warmup records
SamplingConfig = message_class("tensorflow.serving.SamplingConfig")
LogMetadata = message_class("tensorflow.serving.LogMetadata")
ClassifyLog = message_class("tensorflow.serving.ClassifyLog")
RegressLog = message_class("tensorflow.serving.RegressLog")
PredictLog = message_class("tensorflow.serving.PredictLog")
MultiInferenceLog = message_class("tensorflow.serving.MultiInferenceLog")
PredictionLog = message_class("tensorflow.serving.PredictionLog")
