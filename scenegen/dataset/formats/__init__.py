"""Output formats, one module per format (``scenegen.dataset.formats.coco``, ...).

Nothing is imported here, so importing one format never pulls in another format's
dependencies; import the module you need.
"""
