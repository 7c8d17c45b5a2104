"""Export Keras models as versioned SavedModels that TensorFlow Serving loads."""
