/** The recovery menu (R1-R5). */
Page({});
