"""Chinese texts of the password policy."""

LENGTH = "密码长度应为 {low} 到 {high} 位"
CHARSET = "密码只能使用英文字母、数字和常见符号"
CLASSES = "密码需包含大写字母、小写字母、数字、符号中的至少三类"
CONTAINS_USERNAME = "密码不能包含用户名"
CONTAINS_PHONE = "密码不能包含手机号码"
COMMON = "这个密码太常见，容易被猜到，请换一个"
