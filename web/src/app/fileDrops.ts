/** A drag that carries files from the desktop; item rows dragged onto a folder and dragged text are left alone. */
function carriesFiles(e: DragEvent): boolean {
  return Boolean(e.dataTransfer?.types.includes('Files'));
}

/**
 * Stops the browser opening a file dropped where no drop zone takes it, which would navigate
 * away from the app and lose unsaved edits. Drop zones (the vault page) cancel their own events
 * before these reach the window, so only drops nobody took are caught here, and the cursor says
 * nothing can be dropped there. Returns the function that removes the guard.
 */
export function guardFileDrops(target: Window = window): () => void {
  const onDragOver = (e: DragEvent) => {
    if (e.defaultPrevented || !carriesFiles(e)) return;
    e.preventDefault();
    e.dataTransfer!.dropEffect = 'none';
  };
  const onDrop = (e: DragEvent) => {
    if (!e.defaultPrevented && carriesFiles(e)) e.preventDefault();
  };
  target.addEventListener('dragover', onDragOver);
  target.addEventListener('drop', onDrop);
  return () => {
    target.removeEventListener('dragover', onDragOver);
    target.removeEventListener('drop', onDrop);
  };
}
