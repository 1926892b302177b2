"""The TensorFlow / transformers implementation of the classifier boundary: the only package that imports
TensorFlow. Modules: ``checkpoint`` (load/build models), ``batching`` (tf.data input, inference batches),
``classifier`` (:class:`TFClassifier`), ``int8`` (the TFLite copy SHAP scores with), ``train`` (Keras fit).
"""

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # transformers' TF classes need tf-keras, not Keras 3
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
