"""Message classes for TF Serving's wire format, built from our own descriptors in a private pool."""

from __future__ import annotations

import typing

from google.protobuf import message_factory
from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper
from google.protobuf.message import Message

from wire.protos.builder import private_pool
from wire.protos.logging_messages import LOGGING_FILE
from wire.protos.model_service_messages import MODEL_SERVICE_FILE
from wire.protos.saved_model_messages import SAVED_MODEL_FILE
from wire.protos.serving_messages import PREDICTION_SERVICE_FILE
from wire.protos.tensorflow_messages import ERROR_CODES_FILE, TENSORFLOW_FILE

POOL = private_pool(
    [
        TENSORFLOW_FILE,
        ERROR_CODES_FILE,
        PREDICTION_SERVICE_FILE,
        MODEL_SERVICE_FILE,
        LOGGING_FILE,
        SAVED_MODEL_FILE,
    ]
)


def message_class(full_name: str) -> type[Message]:
    """Return the class of a message in our pool, e.g. "tensorflow.serving.PredictRequest".

    Raises:
        KeyError: no message of that full name is in the pool.
    """
    return message_factory.GetMessageClass(POOL.FindMessageTypeByName(full_name))


def _named_class(full_name: str) -> type[typing.Any]:
    """message_class, typed so that mypy takes the fields of its messages as Any.

    The fields are made at run time from our descriptors, so no stubs describe them; as
    type[Message], every field access would be an error.
    """
    return message_class(full_name)


# google.protobuf: our pool's own classes, which is what our Any and version fields hold.
Any = _named_class("google.protobuf.Any")
Int64Value = _named_class("google.protobuf.Int64Value")

# tensorflow and tensorflow.error
DataType = EnumTypeWrapper(POOL.FindEnumTypeByName("tensorflow.DataType"))
ErrorCode = EnumTypeWrapper(POOL.FindEnumTypeByName("tensorflow.error.Code"))
TensorShapeProto = _named_class("tensorflow.TensorShapeProto")
TensorProto = _named_class("tensorflow.TensorProto")
BytesList = _named_class("tensorflow.BytesList")
FloatList = _named_class("tensorflow.FloatList")
Int64List = _named_class("tensorflow.Int64List")
Feature = _named_class("tensorflow.Feature")
Features = _named_class("tensorflow.Features")
Example = _named_class("tensorflow.Example")
TensorInfo = _named_class("tensorflow.TensorInfo")
SignatureDef = _named_class("tensorflow.SignatureDef")
# Read from saved_model.pb by exported/, never sent: not among the package's wire exports.
MetaGraphDef = _named_class("tensorflow.MetaGraphDef")
SavedModel = _named_class("tensorflow.SavedModel")

# tensorflow.serving: PredictionService
ModelSpec = _named_class("tensorflow.serving.ModelSpec")
PredictRequest = _named_class("tensorflow.serving.PredictRequest")
PredictResponse = _named_class("tensorflow.serving.PredictResponse")
ExampleList = _named_class("tensorflow.serving.ExampleList")
ExampleListWithContext = _named_class("tensorflow.serving.ExampleListWithContext")
Input = _named_class("tensorflow.serving.Input")
Class = _named_class("tensorflow.serving.Class")
Classifications = _named_class("tensorflow.serving.Classifications")
ClassificationResult = _named_class("tensorflow.serving.ClassificationResult")
ClassificationRequest = _named_class("tensorflow.serving.ClassificationRequest")
ClassificationResponse = _named_class("tensorflow.serving.ClassificationResponse")
Regression = _named_class("tensorflow.serving.Regression")
RegressionResult = _named_class("tensorflow.serving.RegressionResult")
RegressionRequest = _named_class("tensorflow.serving.RegressionRequest")
RegressionResponse = _named_class("tensorflow.serving.RegressionResponse")
InferenceTask = _named_class("tensorflow.serving.InferenceTask")
MultiInferenceRequest = _named_class("tensorflow.serving.MultiInferenceRequest")
InferenceResult = _named_class("tensorflow.serving.InferenceResult")
MultiInferenceResponse = _named_class("tensorflow.serving.MultiInferenceResponse")
SignatureDefMap = _named_class("tensorflow.serving.SignatureDefMap")
GetModelMetadataRequest = _named_class("tensorflow.serving.GetModelMetadataRequest")
GetModelMetadataResponse = _named_class("tensorflow.serving.GetModelMetadataResponse")

# tensorflow.serving: ModelService and the server config it reloads
StatusProto = _named_class("tensorflow.serving.StatusProto")
ModelVersionStatus = _named_class("tensorflow.serving.ModelVersionStatus")
GetModelStatusRequest = _named_class("tensorflow.serving.GetModelStatusRequest")
GetModelStatusResponse = _named_class("tensorflow.serving.GetModelStatusResponse")
FileSystemStoragePathSourceConfig = _named_class(
    "tensorflow.serving.FileSystemStoragePathSourceConfig"
)
ServableVersionPolicy: type[typing.Any] = FileSystemStoragePathSourceConfig.ServableVersionPolicy
ModelConfig = _named_class("tensorflow.serving.ModelConfig")
ModelConfigList = _named_class("tensorflow.serving.ModelConfigList")
ModelServerConfig = _named_class("tensorflow.serving.ModelServerConfig")
ReloadConfigRequest = _named_class("tensorflow.serving.ReloadConfigRequest")
Metric = _named_class("tensorflow.serving.Metric")
ReloadConfigResponse = _named_class("tensorflow.serving.ReloadConfigResponse")

# tensorflow.serving: request logs and warmup records
SamplingConfig = _named_class("tensorflow.serving.SamplingConfig")
LogMetadata = _named_class("tensorflow.serving.LogMetadata")
ClassifyLog = _named_class("tensorflow.serving.ClassifyLog")
RegressLog = _named_class("tensorflow.serving.RegressLog")
PredictLog = _named_class("tensorflow.serving.PredictLog")
MultiInferenceLog = _named_class("tensorflow.serving.MultiInferenceLog")
PredictionLog = _named_class("tensorflow.serving.PredictionLog")
