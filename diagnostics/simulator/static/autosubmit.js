// Sends the artifact form on its own; without JavaScript the visible button does the same.
document.getElementById("artifact-form").submit();
