/**
 * Images for a manual review: 1 to 3 JPEG or PNG files of at most 4 MB each, checked on the phone
 * before anything is uploaded (size from wx.chooseMedia, type from the file's first bytes, as the
 * server does).
 */

// What the server accepts (R5)
const MAX_IMAGES = 3;
const MAX_IMAGE_BYTES = 4 * 1024 * 1024;

const texts = {
  TOO_BIG: '图片不能超过 4 MB，请重新选择',
  COUNT: '请上传 1 到 3 张图片',
  TYPE: '只能上传 JPG 或 PNG 图片',
  READ_FAILED: '图片读取失败，请重新选择',
};

function kindOf(bytes) {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'png';
  return '';
}

/** Problems with a list of chosen files [{ path, size }] before reading them: '' when fine. */
function checkChosen(files) {
  const list = files || [];
  if (list.length < 1 || list.length > MAX_IMAGES) return texts.COUNT;
  if (list.some((f) => !(f.size > 0) || f.size > MAX_IMAGE_BYTES)) return texts.TOO_BIG;
  return '';
}

/** Read the chosen files (wx file system) into multipart parts; throws Error(message) on a bad one. */
function readForUpload(files, fs) {
  const problem = checkChosen(files);
  if (problem) throw new Error(problem);
  const fsm = fs || wx.getFileSystemManager();
  return files.map((file, index) => {
    let data;
    try {
      data = fsm.readFileSync(file.path);
    } catch (e) {
      throw new Error(texts.READ_FAILED); // e.g. a temporary file WeChat removed
    }
    const bytes = new Uint8Array(data);
    if (bytes.length > MAX_IMAGE_BYTES) throw new Error(texts.TOO_BIG);
    const kind = kindOf(bytes);
    if (!kind) throw new Error(texts.TYPE);
    return {
      field: 'images',
      filename: `image${index + 1}.${kind === 'jpeg' ? 'jpg' : 'png'}`,
      contentType: `image/${kind}`,
      data: bytes,
    };
  });
}

module.exports = { kindOf, checkChosen, readForUpload, MAX_IMAGES, MAX_IMAGE_BYTES, texts };
